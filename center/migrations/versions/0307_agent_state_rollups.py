"""acd: agent time per state rolled up per 15-minute interval and per UTC day, and the
calls each agent answered per queue and UTC day

The month report's occupancy and the range report's pause time by reason read every agent
state span (and every answered call) of the period; with these rows (filled by the same rollup job as
``interval_stats``) they read a few rows per agent and state and only the unsettled tail
from the spans (bench/RESULTS.md). Nothing is backfilled here: until
``civic311 report rollup --from FIRST_DAY`` is run once, the reports keep reading the older
spans themselves (the rollups' own coverage says how far back they go).

Revision ID: 0307_agent_state_rollups
Revises: 0306_twilio_acd
"""
import sqlalchemy as sa
from alembic import op

from foundation.db import UTCDateTime

revision = "0307_agent_state_rollups"
down_revision = "0306_twilio_acd"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_state_intervals",
        sa.Column("minutes", sa.Integer(), primary_key=True),
        sa.Column("interval_start", UTCDateTime(timezone=True), primary_key=True),
        sa.Column("agent", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), primary_key=True),
        sa.Column("reason", sa.String(64), primary_key=True),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.Column("computed_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "agent_call_days",
        sa.Column("day", UTCDateTime(timezone=True), primary_key=True),
        sa.Column("queue", sa.String(64), primary_key=True),
        sa.Column("agent", sa.String(64), primary_key=True),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("computed_at", UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("agent_call_days")
    op.drop_table("agent_state_intervals")
