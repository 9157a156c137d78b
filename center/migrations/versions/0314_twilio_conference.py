"""acd: hold and attended transfers on Twilio move a call into a Conference
(``acd/twilio_acd/conference.py``): the agent's leg, the room's state and SID, the hold
under way (and the order of Twilio's hold callbacks), the consult's target, state and leg on ``twilio_entries``; a REST request's
method on ``twilio_requests`` (a participant is removed by DELETE)

Revision ID: 0314_twilio_conference
Revises: 0313_agent_day_blocks
"""
import sqlalchemy as sa
from alembic import op

from foundation.db import UTCDateTime

revision = "0314_twilio_conference"
down_revision = "0313_agent_day_blocks"
branch_labels = None
depends_on = None

ENTRY_COLUMNS = ("agent_leg", "room_state", "conference_sid", "hold_wanted", "held_since",
                 "hold_seq", "unheld_at", "consult", "consult_state", "consult_leg")


def upgrade() -> None:
    with op.batch_alter_table("twilio_entries") as batch:
        batch.add_column(sa.Column("agent_leg", sa.String(64), nullable=True))
        batch.add_column(sa.Column("room_state", sa.String(16), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("conference_sid", sa.String(64), nullable=True))
        batch.add_column(sa.Column("hold_wanted", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("held_since", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("hold_seq", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("unheld_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("consult", sa.String(128), nullable=True))
        batch.add_column(sa.Column("consult_state", sa.String(16), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("consult_leg", sa.String(64), nullable=True))
    with op.batch_alter_table("twilio_requests") as batch:
        batch.add_column(sa.Column("method", sa.String(8), nullable=False,
                                   server_default="POST"))


def downgrade() -> None:
    with op.batch_alter_table("twilio_requests") as batch:
        batch.drop_column("method")
    with op.batch_alter_table("twilio_entries") as batch:
        for name in reversed(ENTRY_COLUMNS):
            batch.drop_column(name)
