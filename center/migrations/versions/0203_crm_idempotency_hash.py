"""crm: a ticket's Idempotency-Key stored as its SHA-256 (it was cut at 128 characters, so two
different long keys could collide); the keys already stored are hashed in place

Revision ID: 0203_crm_idempotency_hash
Revises: 0202_schedrep_subscriptions
"""
import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0203_crm_idempotency_hash"
down_revision = "0202_schedrep_subscriptions"
branch_labels = None
depends_on = None

tickets = sa.table("crm_tickets", sa.column("id", sa.Integer),
                   sa.column("idempotency_key", sa.String(128)))


def upgrade() -> None:
    # a stored key is the client's "name:key"; hashed as the service now hashes it, so a
    # client retrying a request sent before the upgrade still finds its ticket
    conn = op.get_bind()
    rows = conn.execute(sa.select(tickets.c.id, tickets.c.idempotency_key)
                        .where(tickets.c.idempotency_key.is_not(None))).all()
    for ticket_id, key in rows:
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        conn.execute(tickets.update().where(tickets.c.id == ticket_id)
                     .values(idempotency_key=digest))


def downgrade() -> None:
    pass  # a hash cannot be turned back into its key; the hashed keys still work as keys
