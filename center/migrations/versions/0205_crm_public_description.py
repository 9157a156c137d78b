"""crm: a service type's description is public only when the catalog says so
(crm_service_types.public_description, off by default; crm_bridge/open311/public_view.py).

Revision ID: 0205_crm_public_description
Revises: 0204_crm_language_districts
"""

import sqlalchemy as sa
from alembic import op

revision = "0205_crm_public_description"
down_revision = "0204_crm_language_districts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crm_service_types") as batch:
        batch.add_column(sa.Column("public_description", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("crm_service_types") as batch:
        batch.drop_column("public_description")
