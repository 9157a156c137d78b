"""ivr: where an IVR call's voicemail is (a file in Asterisk's spool, or Twilio's URL)

Revision ID: 0403_ivr_voicemail
Revises: 0402_ivr_notice_recording
"""
import sqlalchemy as sa
from alembic import op

revision = "0403_ivr_voicemail"
down_revision = "0402_ivr_notice_recording"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ivr_calls") as batch:
        batch.add_column(sa.Column("voicemail", sa.String(length=512), nullable=True))
        batch.add_column(sa.Column("voicemail_s", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ivr_calls") as batch:
        batch.drop_column("voicemail_s")
        batch.drop_column("voicemail")
