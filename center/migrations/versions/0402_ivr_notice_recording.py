"""ivr: a notice may carry a recording (8 kHz mono WAV) that callers hear instead of TTS

Revision ID: 0402_ivr_notice_recording
Revises: 0401_ivr_callbacks
"""
import sqlalchemy as sa
from alembic import op

revision = "0402_ivr_notice_recording"
down_revision = "0401_ivr_callbacks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ivr_notices") as batch:
        batch.add_column(sa.Column("audio", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("audio_s", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ivr_notices") as batch:
        batch.drop_column("audio_s")
        batch.drop_column("audio")
