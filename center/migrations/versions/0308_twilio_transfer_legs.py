"""acd: a Twilio caller may enter queues more than once (a transfer into a queue is a new
entry of the same CallSid, as on Asterisk a new leg of the same uniqueid)

Revision ID: 0308_twilio_transfer_legs
Revises: 0307_agent_state_rollups
"""
from alembic import op

revision = "0308_twilio_transfer_legs"
down_revision = "0307_agent_state_rollups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("twilio_entries") as batch:
        batch.drop_constraint("uq_twilio_entries_uniqueid", type_="unique")
        batch.create_index("ix_twilio_entries_uniqueid", ["uniqueid"])


def downgrade() -> None:
    with op.batch_alter_table("twilio_entries") as batch:
        batch.drop_index("ix_twilio_entries_uniqueid")
        batch.create_unique_constraint("uq_twilio_entries_uniqueid", ["uniqueid"])
