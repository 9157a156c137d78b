"""acd: one record per queue entry (leg), the transfer on the record, the referral directory

A caller blind-transferred into a queue keeps their uniqueid; the second entry used to
overwrite the first one's record. Records are now unique per (uniqueid, leg), every existing
one leg 1. The transfer's kind and time sit beside its target; transfer commands carry a
target; admins keep the numbers agents refer callers to.

Revision ID: 0304_call_legs_transfers
Revises: 0303_spans_ended_index
"""
import sqlalchemy as sa
from alembic import op

import foundation.db

revision = "0304_call_legs_transfers"
down_revision = "0303_spans_ended_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_records") as batch:
        batch.add_column(sa.Column("leg", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(sa.Column("transfer_kind", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("transferred_at", foundation.db.UTCDateTime(timezone=True),
                                   nullable=True))
        batch.drop_constraint("uq_call_records_uniqueid", type_="unique")
        batch.create_unique_constraint("uq_call_records_uniqueid_leg", ["uniqueid", "leg"])
    with op.batch_alter_table("agent_commands") as batch:
        batch.add_column(sa.Column("target", sa.String(length=128), server_default="",
                                   nullable=False))
    op.create_table(
        "referral_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_entries")),
        sa.UniqueConstraint("name", name=op.f("uq_referral_entries_name")),
    )


def downgrade() -> None:
    op.drop_table("referral_entries")
    with op.batch_alter_table("agent_commands") as batch:
        batch.drop_column("target")
    op.execute("DELETE FROM call_records WHERE leg > 1")
    with op.batch_alter_table("call_records") as batch:
        batch.drop_constraint("uq_call_records_uniqueid_leg", type_="unique")
        batch.create_unique_constraint("uq_call_records_uniqueid", ["uniqueid"])
        batch.drop_column("transferred_at")
        batch.drop_column("transfer_kind")
        batch.drop_column("leg")
