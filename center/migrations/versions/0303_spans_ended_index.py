"""acd: an index on when each agent state span ended

Occupancy over a period reads the spans that overlap it; without this index the closed
ones were found through ``started_at < end``, every span in history, at each scrape of
``/metrics`` and each wallboard refresh (bench/bench_metrics.py).

Revision ID: 0303_spans_ended_index
Revises: 0302_call_hold_unknown
"""
from alembic import op

revision = "0303_spans_ended_index"
down_revision = "0302_call_hold_unknown"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_agent_state_spans_ended", "agent_state_spans", ["ended_at"])


def downgrade() -> None:
    op.drop_index("ix_agent_state_spans_ended", table_name="agent_state_spans")
