"""workforce: stored forecasts with staffing, schedules with shifts and coverage

Revision ID: 0100_workforce
Revises: 0001_foundation
Branch: workforce (hand-written)
"""
import sqlalchemy as sa
from alembic import op

import foundation.db

revision = "0100_workforce"
down_revision = "0001_foundation"
branch_labels = ("workforce",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wfm_forecasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("created_at", foundation.db.UTCDateTime(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("interval_minutes", sa.Integer(), nullable=False),
        sa.Column("starts_at", foundation.db.UTCDateTime(), nullable=False),
        sa.Column("ends_at", foundation.db.UTCDateTime(), nullable=False),
        sa.Column("backtest_wape", sa.Float(), nullable=True),
        sa.Column("backtest_bias", sa.Float(), nullable=True),
        sa.Column("targets", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wfm_forecasts")),
    )
    op.create_index(op.f("ix_wfm_forecasts_queue"), "wfm_forecasts", ["queue"])
    op.create_table(
        "wfm_forecast_intervals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forecast_id", sa.Integer(), nullable=False),
        sa.Column("interval_start", foundation.db.UTCDateTime(), nullable=False),
        sa.Column("calls", sa.Float(), nullable=False),
        sa.Column("aht_s", sa.Float(), nullable=True),
        sa.Column("agents", sa.Integer(), nullable=True),
        sa.Column("scheduled", sa.Integer(), nullable=True),
        sa.Column("service_level", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["forecast_id"], ["wfm_forecasts.id"], ondelete="CASCADE",
                                name=op.f("fk_wfm_forecast_intervals_forecast_id_wfm_forecasts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wfm_forecast_intervals")),
    )
    op.create_index("ix_wfm_fi_forecast_start", "wfm_forecast_intervals",
                    ["forecast_id", "interval_start"])
    op.create_table(
        "wfm_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forecast_id", sa.Integer(), nullable=False),
        sa.Column("created_at", foundation.db.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("paid_hours", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["forecast_id"], ["wfm_forecasts.id"], ondelete="CASCADE",
                                name=op.f("fk_wfm_schedules_forecast_id_wfm_forecasts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wfm_schedules")),
    )
    op.create_index(op.f("ix_wfm_schedules_forecast_id"), "wfm_schedules", ["forecast_id"])
    op.create_table(
        "wfm_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("starts_at", foundation.db.UTCDateTime(), nullable=False),
        sa.Column("ends_at", foundation.db.UTCDateTime(), nullable=False),
        sa.Column("breaks", sa.String(length=255), nullable=False),
        sa.Column("agents", sa.Integer(), nullable=False),
        sa.Column("paid_hours", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["schedule_id"], ["wfm_schedules.id"], ondelete="CASCADE",
                                name=op.f("fk_wfm_shifts_schedule_id_wfm_schedules")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wfm_shifts")),
    )
    op.create_index(op.f("ix_wfm_shifts_schedule_id"), "wfm_shifts", ["schedule_id"])
    op.create_table(
        "wfm_coverage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("interval_start", foundation.db.UTCDateTime(), nullable=False),
        sa.Column("required", sa.Float(), nullable=False),
        sa.Column("scheduled", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["schedule_id"], ["wfm_schedules.id"], ondelete="CASCADE",
                                name=op.f("fk_wfm_coverage_schedule_id_wfm_schedules")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wfm_coverage")),
    )
    op.create_index(op.f("ix_wfm_coverage_schedule_id"), "wfm_coverage", ["schedule_id"])


def downgrade() -> None:
    for table in ("wfm_coverage", "wfm_shifts", "wfm_schedules", "wfm_forecast_intervals",
                  "wfm_forecasts"):
        op.drop_table(table)
