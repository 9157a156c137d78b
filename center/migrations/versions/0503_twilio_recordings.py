"""recordings: Twilio's recordings to fetch into the catalog (recordings/twilio_fetch.py)

Revision ID: 0503_twilio_recordings
Revises: 0502_recordings_hold_reason
"""
import sqlalchemy as sa
from alembic import op

from foundation.db import UTCDateTime

revision = "0503_twilio_recordings"
down_revision = "0502_recordings_hold_reason"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "twilio_recordings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uniqueid", sa.String(64), nullable=False, unique=True),
        sa.Column("recording_sid", sa.String(64), nullable=False),
        sa.Column("url", sa.String(512), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", UTCDateTime(timezone=True)),
        sa.Column("last_error", sa.Text(), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("twilio_recordings")
