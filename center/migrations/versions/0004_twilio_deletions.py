"""Twilio's copies of recordings and voicemail to delete (foundation/twilio_deletions.py)

Revision ID: 0004_twilio_deletions
Revises: 0003_privacy_erasures
"""

import sqlalchemy as sa
from alembic import op

from foundation.db import UTCDateTime

revision = "0004_twilio_deletions"
down_revision = "0003_privacy_erasures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "twilio_deletions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_sid", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("subject_table", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.Column("answer", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_twilio_deletions")),
        sa.UniqueConstraint("subject_table", "subject_id", name="uq_twilio_deletions_subject"),
    )
    op.create_index("ix_twilio_deletions_due", "twilio_deletions", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_twilio_deletions_due", table_name="twilio_deletions")
    op.drop_table("twilio_deletions")
