"""acd: outbound calls (agents calling residents back and agencies through the trunk)

Their own table: call_records are queued calls reconciled against queue_log, and every
queue metric reads them; an outbound call is neither (acd/outbound/__init__.py).

Revision ID: 0305_acd_outbound_calls
Revises: 0304_call_legs_transfers
"""
import sqlalchemy as sa
from alembic import op

from foundation.db import UTCDateTime

revision = "0305_acd_outbound_calls"
down_revision = "0304_call_legs_transfers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbound_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uniqueid", sa.String(64), nullable=True),
        sa.Column("agent", sa.String(16), nullable=True),
        sa.Column("requested_by", sa.String(64), nullable=True),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("to_carrier", sa.String(32), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("queue", sa.String(64), nullable=True),
        sa.Column("requested_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("talk_s", sa.Double(), nullable=True),
        sa.Column("dial_status", sa.String(16), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_calls")),
    )
    op.create_index("ix_outbound_calls_requested", "outbound_calls", ["requested_at"])
    op.create_index("ix_outbound_calls_agent", "outbound_calls", ["agent", "requested_at"])


def downgrade() -> None:
    op.drop_index("ix_outbound_calls_agent", table_name="outbound_calls")
    op.drop_index("ix_outbound_calls_requested", table_name="outbound_calls")
    op.drop_table("outbound_calls")
