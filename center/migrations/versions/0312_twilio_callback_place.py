"""acd: a called-back Twilio resident keeps their place in line (``twilio_entries.place_at``:
the original call's arrival; the ACD offers callers in the order of ``place_at``, else
``entered_at``)

Revision ID: 0312_twilio_callback_place
Revises: 0311_day_stats
"""
import sqlalchemy as sa
from alembic import op

from foundation.db import UTCDateTime

revision = "0312_twilio_callback_place"
down_revision = "0311_day_stats"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("twilio_entries") as batch:
        batch.add_column(sa.Column("place_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("twilio_entries") as batch:
        batch.drop_column("place_at")
