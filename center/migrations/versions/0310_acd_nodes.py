"""acd: the telephony node of every call record, log cursor and live-board row

Several nodes (an Asterisk and its daemon each) share one database (docs/nodes.md). Rows
written before this carry the default node, which is what a single-node center is.

Revision ID: 0310_acd_nodes
Revises: 0309_outbound_caller_id
"""
import sqlalchemy as sa
from alembic import op

revision = "0310_acd_nodes"
down_revision = "0309_outbound_caller_id"
branch_labels = None
depends_on = None

DEFAULT_NODE = "main"  # foundation.settings.DEFAULT_NODE when this was written


def upgrade() -> None:
    for name in ("call_records", "log_cursors"):
        with op.batch_alter_table(name) as batch:
            batch.add_column(sa.Column("node", sa.String(16), nullable=False,
                                       server_default=DEFAULT_NODE))
    with op.batch_alter_table("live_state") as batch:
        batch.add_column(sa.Column("node", sa.String(16), nullable=True))
    op.execute(f"UPDATE live_state SET node = '{DEFAULT_NODE}' WHERE name = 'wallboard'")


def downgrade() -> None:
    for name in ("live_state", "log_cursors", "call_records"):
        with op.batch_alter_table(name) as batch:
            batch.drop_column("node")
