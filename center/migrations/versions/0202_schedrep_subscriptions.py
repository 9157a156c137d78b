"""crm: scheduled report subscriptions and the log of every send (claimed, retried)

Revision ID: 0202_schedrep_subscriptions
Revises: 0201_crm_remote_updates
"""
import sqlalchemy as sa
from alembic import op

import foundation.db

revision = "0202_schedrep_subscriptions"
down_revision = "0201_crm_remote_updates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_report_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("frequency", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", foundation.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["crm_agencies.id"],
                                name=op.f("fk_crm_report_subscriptions_agency_id_crm_agencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_report_subscriptions")),
    )
    op.create_table(
        "crm_report_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", foundation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", foundation.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"], ["crm_report_subscriptions.id"],
            name=op.f("fk_crm_report_sends_subscription_id_crm_report_subscriptions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_report_sends")),
        sa.UniqueConstraint("subscription_id", "period_start", name="uq_crm_report_sends_period"),
    )
    op.create_index("ix_crm_report_sends_due", "crm_report_sends",
                    ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_crm_report_sends_due", table_name="crm_report_sends")
    op.drop_table("crm_report_sends")
    op.drop_table("crm_report_subscriptions")
