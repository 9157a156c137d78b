"""Personal data retention: the audit log of every erasure (foundation/erasure.py).

Revision ID: 0003_privacy_erasures
Revises: 0002_sessions_login
"""

import sqlalchemy as sa
from alembic import op

from foundation.db import UTCDateTime

revision = "0003_privacy_erasures"
down_revision = "0002_sessions_login"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("subject_table", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("fields", sa.String(length=255), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_erasures")),
    )
    op.create_index("ix_privacy_erasures_subject", "privacy_erasures",
                    ["subject_table", "subject_id"])
    op.create_index("ix_privacy_erasures_at", "privacy_erasures", ["at"])


def downgrade() -> None:
    op.drop_index("ix_privacy_erasures_at", table_name="privacy_erasures")
    op.drop_index("ix_privacy_erasures_subject", table_name="privacy_erasures")
    op.drop_table("privacy_erasures")
