"""crm: two-way SMS (crm_bridge/sms): each phone's exchange, language and opt-out
(crm_sms_phones), and the inbound messages already answered (crm_sms_inbound).

Revision ID: 0206_crm_sms
Revises: 0205_crm_public_description
"""

import sqlalchemy as sa
from alembic import op

import foundation.db

revision = "0206_crm_sms"
down_revision = "0205_crm_public_description"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_sms_phones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("opted_out_at", foundation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("exchange", sa.JSON(), nullable=True),
        sa.Column("last_text_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_sms_phones")),
        sa.UniqueConstraint("phone", name=op.f("uq_crm_sms_phones_phone")),
    )
    op.create_index(op.f("ix_crm_sms_phones_last_text_at"), "crm_sms_phones", ["last_text_at"])
    op.create_table(
        "crm_sms_inbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_sid", sa.String(length=64), nullable=False),
        sa.Column("received_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_sms_inbound")),
        sa.UniqueConstraint("message_sid", name=op.f("uq_crm_sms_inbound_message_sid")),
    )
    op.create_index(op.f("ix_crm_sms_inbound_received_at"), "crm_sms_inbound", ["received_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_crm_sms_inbound_received_at"), table_name="crm_sms_inbound")
    op.drop_table("crm_sms_inbound")
    op.drop_index(op.f("ix_crm_sms_phones_last_text_at"), table_name="crm_sms_phones")
    op.drop_table("crm_sms_phones")
