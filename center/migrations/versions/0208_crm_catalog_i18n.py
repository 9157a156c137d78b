"""crm: a service type's words in other languages (crm_service_types.i18n, JSON; the
catalog's ``i18n`` block, crm_bridge/tickets/translations.py). Numbered 0208 to leave
0207 to another branch; it revises the newest crm revision, 0206.

Revision ID: 0208_crm_catalog_i18n
Revises: 0207_crm_mail_in
"""

import sqlalchemy as sa
from alembic import op

revision = "0208_crm_catalog_i18n"
down_revision = "0207_crm_mail_in"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crm_service_types") as batch:
        batch.add_column(sa.Column("i18n", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crm_service_types") as batch:
        batch.drop_column("i18n")
