"""recordings: the access log's legal-hold reason gets its own column (it was kept in byte_range)

Revision ID: 0502_recordings_hold_reason
Revises: 0501_qa_surveys
"""
import sqlalchemy as sa
from alembic import op

revision = "0502_recordings_hold_reason"
down_revision = "0501_qa_surveys"
branch_labels = None
depends_on = None

HOLD_ACTIONS = "('hold', 'release')"


def upgrade() -> None:
    op.add_column("recording_access_log",
                  sa.Column("reason", sa.Text(), nullable=False, server_default=""))
    op.execute("UPDATE recording_access_log SET reason = byte_range, byte_range = '' "
               f"WHERE action IN {HOLD_ACTIONS}")


def downgrade() -> None:
    op.execute("UPDATE recording_access_log SET byte_range = substr(reason, 1, 64) "
               f"WHERE action IN {HOLD_ACTIONS}")
    op.drop_column("recording_access_log", "reason")
