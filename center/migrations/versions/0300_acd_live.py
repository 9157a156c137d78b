"""acd: agent state spans, agent commands (web -> daemon), live state, interval rollups

Revision ID: 0300_acd_live
Revises: 0001_foundation
"""
import sqlalchemy as sa
from alembic import op

import foundation.db

revision = "0300_acd_live"
down_revision = "0001_foundation"
branch_labels = ("acd",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_state_spans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("started_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", foundation.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_state_spans")),
    )
    op.create_index("ix_agent_state_spans_agent_started", "agent_state_spans",
                    ["agent", "started_at"])
    op.create_index("ix_agent_state_spans_started", "agent_state_spans", ["started_at"])
    op.create_table(
        "agent_commands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("queue", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("done_at", foundation.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_commands")),
    )
    op.create_index("ix_agent_commands_status", "agent_commands", ["status", "id"])
    op.create_table(
        "live_state",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.Column("updated_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_live_state")),
    )
    counts = ("offered", "answered", "abandoned", "short_abandoned", "timed_out", "exit_key",
              "exit_empty", "refused", "callback", "dropped")
    op.create_table(
        "interval_stats",
        sa.Column("interval_start", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        *[sa.Column(c, sa.Integer(), nullable=False) for c in counts],
        sa.Column("answered_within", sa.Text(), nullable=False),
        sa.Column("total_wait_answered_s", sa.Double(), nullable=False),
        sa.Column("total_handle_s", sa.Double(), nullable=False),
        sa.Column("longest_wait_s", sa.Double(), nullable=False),
        sa.Column("computed_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("interval_start", "queue", name=op.f("pk_interval_stats")),
    )


def downgrade() -> None:
    for table in ("interval_stats", "live_state", "agent_commands", "agent_state_spans"):
        op.drop_table(table)
