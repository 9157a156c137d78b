"""places: the city's address points and district polygons (civic311 gis import)

Revision ID: 0600_places
Revises: 0001_foundation
"""
import sqlalchemy as sa
from alembic import op

import foundation.db

revision = "0600_places"
down_revision = "0001_foundation"
branch_labels = ("places",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "places_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=255), nullable=False),
        sa.Column("normalized", sa.String(length=255), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("street", sa.String(length=128), nullable=False),
        sa.Column("zipcode", sa.String(length=10), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("long", sa.Float(), nullable=False),
        sa.Column("imported_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_places_addresses")),
        sa.UniqueConstraint("address_id", name=op.f("uq_places_addresses_address_id")),
    )
    op.create_index("ix_places_addresses_lat_long", "places_addresses", ["lat", "long"])
    op.create_index("ix_places_addresses_street_number", "places_addresses",
                    ["street", "number"])
    op.create_table(
        "places_districts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("layer", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("min_long", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_long", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("imported_at", foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_places_districts")),
        sa.UniqueConstraint("layer", "code", name="uq_places_districts_layer_code"),
    )


def downgrade() -> None:
    op.drop_table("places_districts")
    op.drop_index("ix_places_addresses_street_number", table_name="places_addresses")
    op.drop_index("ix_places_addresses_lat_long", table_name="places_addresses")
    op.drop_table("places_addresses")
