"""crm: what the service-request reports count, kept so they need not count it again

The backlog read every open ticket's row, the period's counts every received or closed
ticket's row (tens of thousands at a million tickets, 0.15-0.7 s each). Indexes now hold
every column those scans count, so PostgreSQL answers from the index alone, and the whole
city days of a period are read from tallies per day (crm_bridge/tickets/tallies.py).

Revision ID: 0209_crm_report_counts
Revises: 0208_crm_catalog_i18n
"""
import sqlalchemy as sa
from alembic import op

from foundation.db import UTCDateTime

revision = "0209_crm_report_counts"
down_revision = "0208_crm_catalog_i18n"
branch_labels = None
depends_on = None

NUMBERED = sa.text("number IS NOT NULL")
OPEN_NUMBERED = sa.text("state <> 'closed' AND number IS NOT NULL")
CLOSED = sa.text("closed_at IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_crm_tickets_open_due", "crm_tickets",
                    ["agency_id", "service_type_id", "due_at"],
                    postgresql_where=OPEN_NUMBERED, sqlite_where=OPEN_NUMBERED)
    op.create_index("ix_crm_tickets_received", "crm_tickets",
                    ["requested_at", "agency_id", "service_type_id", "channel", "id"],
                    postgresql_where=NUMBERED, sqlite_where=NUMBERED)
    op.create_index("ix_crm_tickets_closed", "crm_tickets",
                    ["closed_at", "agency_id", "service_type_id", "due_at"],
                    postgresql_where=CLOSED, sqlite_where=CLOSED)
    op.create_index("ix_crm_ticket_events_kind_at", "crm_ticket_events",
                    ["kind", "at", "ticket_id"])
    op.create_table(
        "crm_ticket_day_tallies",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("crm_agencies.id"), primary_key=True),
        sa.Column("service_type_id", sa.Integer(), sa.ForeignKey("crm_service_types.id"),
                  primary_key=True),
        sa.Column("channel", sa.String(16), primary_key=True),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in ("received", "closed", "on_time")))
    op.create_table(
        "crm_ticket_district_tallies",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("crm_agencies.id"), primary_key=True),
        sa.Column("layer", sa.String(32), primary_key=True),
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False))
    op.create_table(
        "crm_tally_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("ran_at", UTCDateTime(), nullable=False))


def downgrade() -> None:
    for table in ("crm_tally_state", "crm_ticket_district_tallies", "crm_ticket_day_tallies"):
        op.drop_table(table)
    op.drop_index("ix_crm_ticket_events_kind_at", table_name="crm_ticket_events")
    for name in ("ix_crm_tickets_closed", "ix_crm_tickets_received", "ix_crm_tickets_open_due"):
        op.drop_index(name, table_name="crm_tickets")
