"""crm: the log of received mail (e-mail in)

Revision ID: 0207_crm_mail_in
Revises: 0206_crm_sms
"""
import sqlalchemy as sa
from alembic import op

import foundation.db

revision = "0207_crm_mail_in"
down_revision = "0206_crm_sms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_mail_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_key", sa.String(length=64), nullable=False),
        sa.Column("sender_key", sa.String(length=64), nullable=False),
        sa.Column("received_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["crm_tickets.id"],
                                name=op.f("fk_crm_mail_in_ticket_id_crm_tickets"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_mail_in")),
        sa.UniqueConstraint("message_key", name=op.f("uq_crm_mail_in_message_key")),
    )
    op.create_index("ix_crm_mail_in_sender_received", "crm_mail_in", ["sender_key", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_crm_mail_in_sender_received", table_name="crm_mail_in")
    op.drop_table("crm_mail_in")
