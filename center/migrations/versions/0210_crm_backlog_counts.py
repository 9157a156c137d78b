"""crm: the open backlog counted by the worker, corrected on each read

The backlog counted every open ticket on each read (about 75,000 at a million tickets). The
worker now keeps their count per agency, type and ageing band with the open tickets as it
saw them (crm_bridge/tickets/backlog.py); a read corrects that count to its instant from the
tickets changed since and the due dates that crossed a band's edge.

Revision ID: 0210_crm_backlog_counts
Revises: 0209_crm_report_counts
"""
import sqlalchemy as sa
from alembic import op

from foundation.db import UTCDateTime

revision = "0210_crm_backlog_counts"
down_revision = "0209_crm_report_counts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_backlog_members",
        sa.Column("ticket_id", sa.Integer(),
                  sa.ForeignKey("crm_tickets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("service_type_id", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True))
    op.create_index("ix_crm_backlog_members_due", "crm_backlog_members", ["due_at"])
    op.create_table(
        "crm_backlog_counts",
        *(sa.Column(c, sa.Integer(), primary_key=True)
          for c in ("agency_id", "service_type_id", "band")),
        sa.Column("n", sa.Integer(), nullable=False))
    op.create_table(
        "crm_backlog_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("counted_at", UTCDateTime(), nullable=False))


def downgrade() -> None:
    for table in ("crm_backlog_state", "crm_backlog_counts", "crm_backlog_members"):
        op.drop_table(table)
