"""crm: updates polled from remote CRMs wait in crm_remote_updates (claimed, retried, failed)

Revision ID: 0201_crm_remote_updates
Revises: 0200_crm
"""
import sqlalchemy as sa
from alembic import op

import foundation.db

revision = "0201_crm_remote_updates"
down_revision = "0200_crm"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_remote_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("remote_id", sa.String(length=128), nullable=False),
        sa.Column("remote_updated", sa.String(length=64), nullable=False),
        sa.Column("remote_status", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", foundation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["crm_agencies.id"],
                                name=op.f("fk_crm_remote_updates_agency_id_crm_agencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_remote_updates")),
        sa.UniqueConstraint("agency_id", "remote_id", "remote_updated",
                            name="uq_crm_remote_updates_change"),
    )
    op.create_index("ix_crm_remote_updates_due", "crm_remote_updates",
                    ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_crm_remote_updates_due", table_name="crm_remote_updates")
    op.drop_table("crm_remote_updates")
