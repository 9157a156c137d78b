"""recordings: per-queue policy, catalog, access audit, QA forms/evaluations/samples/calibration

Revision ID: 0500_recordings
Revises: 0001_foundation
"""
import sqlalchemy as sa
from alembic import op

import foundation.db

revision = "0500_recordings"
down_revision = "0001_foundation"
branch_labels = ("recordings",)
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, foundation.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "recording_policies",
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("sample_pct", sa.Integer(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("beep", sa.Boolean(), nullable=False),
        _ts("updated_at"),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("queue", name=op.f("pk_recording_policies")),
    )
    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uniqueid", sa.String(64), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("agent", sa.String(64), nullable=True),
        sa.Column("ticket_number", sa.String(32), nullable=True),
        _ts("started_at"),
        sa.Column("talk_s", sa.Double(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("path", sa.String(255), nullable=True),
        sa.Column("duration_s", sa.Double(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        _ts("catalogued_at"),
        sa.Column("legal_hold", sa.Boolean(), nullable=False),
        sa.Column("hold_reason", sa.Text(), nullable=False),
        _ts("deleted_at", nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["call_records.id"], ondelete="SET NULL",
                                name=op.f("fk_recordings_call_id_call_records")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
        sa.UniqueConstraint("uniqueid", name=op.f("uq_recordings_uniqueid")),
    )
    op.create_index("ix_recordings_status", "recordings", ["status", "started_at"])
    op.create_index("ix_recordings_started", "recordings", ["started_at"])
    op.create_table(
        "recording_access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        _ts("at"),
        sa.Column("remote_addr", sa.String(64), nullable=False),
        sa.Column("byte_range", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"], ondelete="CASCADE",
                                name=op.f("fk_recording_access_log_recording_id_recordings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_access_log")),
    )
    op.create_index("ix_recording_access_recording", "recording_access_log",
                    ["recording_id", "at"])
    op.create_table(
        "qa_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _ts("updated_at"),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_forms")),
        sa.UniqueConstraint("name", name=op.f("uq_qa_forms_name")),
    )
    op.create_table(
        "qa_criteria",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.Column("max_points", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["form_id"], ["qa_forms.id"], ondelete="CASCADE",
                                name=op.f("fk_qa_criteria_form_id_qa_forms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_criteria")),
    )
    op.create_index(op.f("ix_qa_criteria_form_id"), "qa_criteria", ["form_id"])
    op.create_table(
        "qa_calibrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(128), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _ts("created_at"),
        _ts("closed_at", nullable=True),
        sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"], ondelete="CASCADE",
                                name=op.f("fk_qa_calibrations_recording_id_recordings")),
        sa.ForeignKeyConstraint(["form_id"], ["qa_forms.id"],
                                name=op.f("fk_qa_calibrations_form_id_qa_forms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_calibrations")),
    )
    op.create_table(
        "qa_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        _ts("drawn_at"),
        sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"], ondelete="CASCADE",
                                name=op.f("fk_qa_samples_recording_id_recordings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_samples")),
        sa.UniqueConstraint("month", "recording_id", name="uq_qa_samples_month_rec"),
    )
    op.create_index("ix_qa_samples_month_agent", "qa_samples", ["month", "agent"])
    op.create_table(
        "qa_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("evaluator", sa.String(64), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("calibration_id", sa.Integer(), nullable=True),
        sa.Column("score_pct", sa.Double(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        _ts("submitted_at"),
        sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"], ondelete="CASCADE",
                                name=op.f("fk_qa_evaluations_recording_id_recordings")),
        sa.ForeignKeyConstraint(["form_id"], ["qa_forms.id"],
                                name=op.f("fk_qa_evaluations_form_id_qa_forms")),
        sa.ForeignKeyConstraint(["calibration_id"], ["qa_calibrations.id"], ondelete="CASCADE",
                                name=op.f("fk_qa_evaluations_calibration_id_qa_calibrations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_evaluations")),
    )
    op.create_index("ix_qa_evaluations_agent", "qa_evaluations", ["agent", "submitted_at"])
    op.create_table(
        "qa_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("criterion", sa.String(128), nullable=False),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("max_points", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["evaluation_id"], ["qa_evaluations.id"], ondelete="CASCADE",
                                name=op.f("fk_qa_scores_evaluation_id_qa_evaluations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_scores")),
    )
    op.create_index(op.f("ix_qa_scores_evaluation_id"), "qa_scores", ["evaluation_id"])


def downgrade() -> None:
    for table in ("qa_scores", "qa_evaluations", "qa_samples", "qa_calibrations", "qa_criteria",
                  "qa_forms", "recording_access_log", "recordings", "recording_policies"):
        op.drop_table(table)
