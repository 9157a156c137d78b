"""crm: the requests received per district for the whole city, one row per day and district

A report for every agency summed the per-agency district tallies: at a million tickets
every agency has requests in every district on most days, nine times the rows of the city's
own. The tallies are counted again on the worker's next run (their state is cleared; until
then the reports count the tickets).

Revision ID: 0211_crm_city_district_tallies
Revises: 0210_crm_backlog_counts
"""
import sqlalchemy as sa
from alembic import op

revision = "0211_crm_city_district_tallies"
down_revision = "0210_crm_backlog_counts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_city_district_tallies",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("layer", sa.String(32), primary_key=True),
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False))
    op.execute("DELETE FROM crm_tally_state")


def downgrade() -> None:
    op.drop_table("crm_city_district_tallies")
