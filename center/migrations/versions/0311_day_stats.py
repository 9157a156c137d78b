"""acd: the call figures rolled up per city day (``day_stats``), the sum of the day's
``interval_stats`` rows

A month's queue figures read 30 rows per queue instead of 2,880 (bench/RESULTS.md: the
month report at 2M call records spent two thirds of its time decoding interval rows).
Nothing is backfilled here (a migration does not know the city's zone): the next rollup run
builds the day rows of every day the interval rollups cover, and until then reports read
the interval rows, as before (``acd.day_stats``: the day rows' own coverage).

Revision ID: 0311_day_stats
Revises: 0310_acd_nodes
"""
import sqlalchemy as sa
from alembic import op

from foundation.db import UTCDateTime

revision = "0311_day_stats"
down_revision = "0310_acd_nodes"
branch_labels = None
depends_on = None

COUNTS = ("offered", "answered", "abandoned", "short_abandoned", "timed_out", "exit_key",
          "exit_empty", "refused", "callback", "dropped")


def upgrade() -> None:
    op.create_table(
        "day_stats",
        sa.Column("day_start", UTCDateTime(timezone=True), primary_key=True),
        sa.Column("queue", sa.String(64), primary_key=True),
        sa.Column("day_end", UTCDateTime(timezone=True), nullable=False),
        *[sa.Column(c, sa.Integer(), nullable=False) for c in COUNTS],
        sa.Column("answered_within", sa.Text(), nullable=False),
        sa.Column("total_wait_answered_s", sa.Double(), nullable=False),
        sa.Column("total_handle_s", sa.Double(), nullable=False),
        sa.Column("longest_wait_s", sa.Double(), nullable=False),
        sa.Column("computed_at", UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("day_stats")
