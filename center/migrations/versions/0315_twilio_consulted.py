"""acd: the agent an attended transfer on Twilio consults is busy while consulted
(``acd/twilio_acd/consulted.py``): the entry consulting them on ``twilio_agents``; when a
call's conference ended on ``twilio_entries`` (its recording follows:
``recordings/twilio_rooms.py``)

Revision ID: 0315_twilio_consulted
Revises: 0314_twilio_conference
"""
import sqlalchemy as sa
from alembic import op

from foundation.db import UTCDateTime

revision = "0315_twilio_consulted"
down_revision = "0314_twilio_conference"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("twilio_agents") as batch:
        batch.add_column(sa.Column("consult_entry", sa.Integer(), nullable=True))
    with op.batch_alter_table("twilio_entries") as batch:
        batch.add_column(sa.Column("room_ended_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("twilio_entries") as batch:
        batch.drop_column("room_ended_at")
    with op.batch_alter_table("twilio_agents") as batch:
        batch.drop_column("consult_entry")
