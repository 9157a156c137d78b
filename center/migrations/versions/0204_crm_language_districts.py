"""crm: the resident's language on each ticket, the districts its place lies in, and the
service types' routing rule by district

Revision ID: 0204_crm_language_districts
Revises: 0203_crm_idempotency_hash
"""
import sqlalchemy as sa
from alembic import op

revision = "0204_crm_language_districts"
down_revision = "0203_crm_idempotency_hash"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crm_tickets") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=False,
                                   server_default="en"))
    with op.batch_alter_table("crm_service_types") as batch:
        batch.add_column(sa.Column("district_routes", sa.JSON(), nullable=True))
    op.create_table(
        "crm_ticket_districts",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("layer", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["crm_tickets.id"],
                                name=op.f("fk_crm_ticket_districts_ticket_id_crm_tickets"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ticket_id", "layer", name=op.f("pk_crm_ticket_districts")),
    )
    op.create_index("ix_crm_ticket_districts_layer_code", "crm_ticket_districts",
                    ["layer", "code"])


def downgrade() -> None:
    op.drop_index("ix_crm_ticket_districts_layer_code", table_name="crm_ticket_districts")
    op.drop_table("crm_ticket_districts")
    with op.batch_alter_table("crm_service_types") as batch:
        batch.drop_column("district_routes")
    with op.batch_alter_table("crm_tickets") as batch:
        batch.drop_column("language")
