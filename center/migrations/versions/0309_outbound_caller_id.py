"""acd: the caller ID an outbound call went out with

The number the carrier was given as the city's (E.164; the trunk's caller_id at the time
of the call), kept on the record so the list and report show what the called party saw.

Revision ID: 0309_outbound_caller_id
Revises: 0308_twilio_transfer_legs
"""
import sqlalchemy as sa
from alembic import op

revision = "0309_outbound_caller_id"
down_revision = "0308_twilio_transfer_legs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_calls") as batch:
        batch.add_column(sa.Column("caller_id", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbound_calls") as batch:
        batch.drop_column("caller_id")
