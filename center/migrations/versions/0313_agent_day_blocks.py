"""acd: the agent rollups in blocks of 2-32 whole city days (``acd.day_blocks``)

Agent time goes into ``agent_state_intervals`` (``minutes`` = 1440 x the block's days); the
calls per agent into ``agent_call_blocks``. Nothing is written here: the worker's next
rollup run builds every block of the days its rollups cover, and until then the reports
read the day rows as before.

Revision ID: 0313_agent_day_blocks
Revises: 0312_twilio_callback_place
"""
import sqlalchemy as sa
from alembic import op

from foundation.db import UTCDateTime

revision = "0313_agent_day_blocks"
down_revision = "0312_twilio_callback_place"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_call_blocks",
        sa.Column("days", sa.Integer(), primary_key=True),
        sa.Column("day", UTCDateTime(timezone=True), primary_key=True),
        sa.Column("queue", sa.String(64), primary_key=True),
        sa.Column("agent", sa.String(64), primary_key=True),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("computed_at", UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("agent_call_blocks")
    op.execute("DELETE FROM agent_state_intervals WHERE minutes > 1440")
    op.execute("DELETE FROM live_state WHERE name = 'agent_rollup_blocks'")
