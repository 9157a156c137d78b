"""acd: the telephony node of every agent state span

With agents shared by several nodes (docs/nodes.md) each node's daemon opens and closes
only its own spans, and the readers merge the nodes (``acd.span_merge``). Spans written
before this carry the default node, which is what a single-node center is.

Revision ID: 0316_acd_span_nodes
Revises: 0315_twilio_consulted
"""
import sqlalchemy as sa
from alembic import op

revision = "0316_acd_span_nodes"
down_revision = "0315_twilio_consulted"
branch_labels = None
depends_on = None

DEFAULT_NODE = "main"  # foundation.settings.DEFAULT_NODE when this was written


def upgrade() -> None:
    with op.batch_alter_table("agent_state_spans") as batch:
        batch.add_column(sa.Column("node", sa.String(16), nullable=False,
                                   server_default=DEFAULT_NODE))


def downgrade() -> None:
    with op.batch_alter_table("agent_state_spans") as batch:
        batch.drop_column("node")
