"""acd: a call's hold time may be unknown (NULL)

Hold is measured from AMI's Hold/Unhold events; a call rebuilt from queue_log or the CDRs
(which carry no hold) now says "unknown" instead of a measured-looking 0.

Revision ID: 0302_call_hold_unknown
Revises: 0301_open_spans_index
"""
import sqlalchemy as sa
from alembic import op

revision = "0302_call_hold_unknown"
down_revision = "0301_open_spans_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_records") as batch:
        batch.alter_column("hold_s", existing_type=sa.Double(), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE call_records SET hold_s = 0 WHERE hold_s IS NULL")
    with op.batch_alter_table("call_records") as batch:
        batch.alter_column("hold_s", existing_type=sa.Double(), nullable=False)
