"""recordings: post-call survey responses (1-5 by keypad, per agent and queue)

Revision ID: 0501_qa_surveys
Revises: 0500_recordings
"""
import sqlalchemy as sa
from alembic import op

import foundation.db

revision = "0501_qa_surveys"
down_revision = "0500_recordings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qa_surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uniqueid", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_surveys")),
        sa.UniqueConstraint("uniqueid", name=op.f("uq_qa_surveys_uniqueid")),
    )
    op.create_index("ix_qa_surveys_at", "qa_surveys", ["at"])


def downgrade() -> None:
    op.drop_index("ix_qa_surveys_at", table_name="qa_surveys")
    op.drop_table("qa_surveys")
