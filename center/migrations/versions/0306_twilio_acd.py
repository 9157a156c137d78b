"""acd: the Twilio ACD's tables (waiting callers, agents' availability, REST outbox)

Revision ID: 0306_twilio_acd
Revises: 0305_acd_outbound_calls
"""
import sqlalchemy as sa
from alembic import op

from foundation.db import UTCDateTime

revision = "0306_twilio_acd"
down_revision = "0305_acd_outbound_calls"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "twilio_agents",
        sa.Column("agent", sa.String(64), primary_key=True),
        sa.Column("device", sa.String(64), nullable=False, server_default=""),
        sa.Column("queues", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("state", sa.String(16), nullable=False, server_default="logged_out"),
        sa.Column("reason", sa.String(64), nullable=False, server_default=""),
        sa.Column("offer_entry", sa.Integer()),
        sa.Column("on_call", sa.String(64)),
        sa.Column("wrapup_call", sa.String(64)),
        sa.Column("wrapup_since", UTCDateTime(timezone=True)),
        sa.Column("wrapup_until", UTCDateTime(timezone=True)),
        sa.Column("idle_since", UTCDateTime(timezone=True)),
    )
    op.create_table(
        "twilio_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uniqueid", sa.String(64), nullable=False, unique=True),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("queue_sid", sa.String(64)),
        sa.Column("caller_number", sa.String(64)),
        sa.Column("entered_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("state", sa.String(16), nullable=False, server_default="waiting"),
        sa.Column("agent", sa.String(64)),
        sa.Column("offered_at", UTCDateTime(timezone=True)),
        sa.Column("answered_at", UTCDateTime(timezone=True)),
        sa.Column("leave_reason", sa.String(16)),
        sa.Column("leave_key", sa.String(4)),
        sa.Column("tried", sa.Text(), nullable=False, server_default=""),
        sa.Column("offers", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("announced", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_twilio_entries_state", "twilio_entries", ["state", "queue", "entered_at"])
    op.create_table(
        "twilio_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("entry_id", sa.Integer()),
        sa.Column("offer", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("form", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", UTCDateTime(timezone=True)),
        sa.Column("last_error", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", UTCDateTime(timezone=True)),
    )
    op.create_index("ix_twilio_requests_due", "twilio_requests", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("twilio_requests")
    op.drop_table("twilio_entries")
    op.drop_table("twilio_agents")
