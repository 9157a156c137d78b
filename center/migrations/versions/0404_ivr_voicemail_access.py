"""ivr: every voicemail play audited (who, when, which message, from where)

Revision ID: 0404_ivr_voicemail_access
Revises: 0403_ivr_voicemail
"""
import sqlalchemy as sa
from alembic import op

from foundation.db import UTCDateTime

revision = "0404_ivr_voicemail_access"
down_revision = "0403_ivr_voicemail"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ivr_voicemail_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ivr_call_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("remote_addr", sa.String(length=64), nullable=False),
        sa.Column("byte_range", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["ivr_call_id"], ["ivr_calls.id"], ondelete="CASCADE",
                                name=op.f("fk_ivr_voicemail_access_ivr_call_id_ivr_calls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ivr_voicemail_access")),
    )
    op.create_index("ix_ivr_voicemail_access_call", "ivr_voicemail_access", ["ivr_call_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_ivr_voicemail_access_call", table_name="ivr_voicemail_access")
    op.drop_table("ivr_voicemail_access")
