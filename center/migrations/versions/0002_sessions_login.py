"""Sessions and log-in: revocable sessions (users.session_epoch), TOTP second factor,
single sign-on subjects and log-in throttling.

Revision ID: 0002_sessions_login
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

from foundation.db import UTCDateTime

revision = "0002_sessions_login"
down_revision = "0001_foundation"
branch_labels = ("sessions",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_epoch", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("totp_secret", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sso_subject", sa.String(length=255), nullable=True))
        batch.create_unique_constraint(op.f("uq_users_sso_subject"), ["sso_subject"])
    op.create_table(
        "login_throttle",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=True),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_login_throttle")),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_sso_subject"), type_="unique")
        batch.drop_column("sso_subject")
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_secret")
        batch.drop_column("session_epoch")
