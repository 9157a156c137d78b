"""acd: a partial index on each agent's open state span

Closing an agent's open span (``WHERE agent = ? AND ended_at IS NULL``) walked every span
the agent ever had through ix_agent_state_spans_agent_started: tens of thousands a year.

Revision ID: 0301_open_spans_index
Revises: 0300_acd_live
"""
import sqlalchemy as sa
from alembic import op

revision = "0301_open_spans_index"
down_revision = "0300_acd_live"
branch_labels = None
depends_on = None

OPEN = sa.text("ended_at IS NULL")


def upgrade() -> None:
    op.create_index("ix_agent_state_spans_open", "agent_state_spans", ["agent"],
                    postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    op.drop_index("ix_agent_state_spans_open", table_name="agent_state_spans")
