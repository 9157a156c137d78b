"""workforce: special days (holidays, storms) kept out of training or overriding a forecast

Revision ID: 0101_wfm_special_days
Revises: 0100_workforce
Branch: workforce (hand-written)
"""
import sqlalchemy as sa
from alembic import op

revision = "0101_wfm_special_days"
down_revision = "0100_workforce"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wfm_special_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("factor", sa.Float(), nullable=False),
        sa.Column("note", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wfm_special_days")),
        sa.UniqueConstraint("queue", "day", name=op.f("uq_wfm_special_days_queue")),
    )


def downgrade() -> None:
    op.drop_table("wfm_special_days")
