"""Recordings catalog, per-queue policy, access audit and QA tables (SQLAlchemy models)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foundation.db import Base, UTCDateTime, utcnow

NAME_LEN = 64  # queue, agent, user names, uniqueids (the widths shared with the call record)
AUDIT_LEN = 64  # remote_addr and byte_range of the access log
CODE_LEN = 16  # a status, role or action value
SHA256_HEX_LEN = 64
LABEL_LEN = 128  # QA form, criterion and calibration names
LANGUAGE_LEN = 8


class RecordingStatus(StrEnum):
    """What became of a queue call's recording; the values are the stored strings."""

    OK = "ok"  # file catalogued
    MISSING = "missing"  # expected by the policy but no file
    FAILED = "failed"  # unreadable, empty or much shorter than the talk time
    SKIPPED = "skipped"  # the policy said not to record
    DELETED = "deleted"  # removed by retention (the row stays as the trace)


class AccessAction(StrEnum):
    """What an access-log row records; the values are the stored strings."""

    PLAY = "play"
    DOWNLOAD = "download"
    HOLD = "hold"
    RELEASE = "release"


STATUSES = tuple(s.value for s in RecordingStatus)
PROBLEMS = (RecordingStatus.MISSING.value, RecordingStatus.FAILED.value)


class RecordingPolicyRow(Base):
    """One queue's recording policy (no row: the defaults in ``recordings.policy``)."""

    __tablename__ = "recording_policies"

    queue: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))  # all | sample | none
    sample_pct: Mapped[int] = mapped_column(default=100)
    retention_days: Mapped[int] = mapped_column(default=365)
    beep: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(NAME_LEN), default="")


class Recording(Base):
    """A call's recording (or the reason there is none), by its uniqueid: a queue call's
    (the caller's uniqueid, ``call_id`` set) or an agent's outbound call (the agent's
    channel, no ``call_id``)."""

    __tablename__ = "recordings"
    __table_args__ = (Index("ix_recordings_status", "status", "started_at"),
                      Index("ix_recordings_started", "started_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    uniqueid: Mapped[str] = mapped_column(String(NAME_LEN), unique=True)
    call_id: Mapped[int | None] = mapped_column(
        ForeignKey("call_records.id", ondelete="SET NULL"), default=None)
    queue: Mapped[str] = mapped_column(String(NAME_LEN))
    agent: Mapped[str | None] = mapped_column(String(NAME_LEN), default=None)
    ticket_number: Mapped[str | None] = mapped_column(String(32), default=None)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    talk_s: Mapped[float | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(CODE_LEN))
    detail: Mapped[str] = mapped_column(Text, default="")
    path: Mapped[str | None] = mapped_column(String(255), default=None)  # under the data dir
    duration_s: Mapped[float | None] = mapped_column(default=None)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)
    sha256: Mapped[str | None] = mapped_column(String(SHA256_HEX_LEN), default=None)
    catalogued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    legal_hold: Mapped[bool] = mapped_column(default=False)
    hold_reason: Mapped[str] = mapped_column(Text, default="")
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


ACCESS_ACTIONS = tuple(a.value for a in AccessAction)


class RecordingAccess(Base):
    """Audit log: who did what with which recording, and when (one row per request)."""

    __tablename__ = "recording_access_log"
    __table_args__ = (Index("ix_recording_access_recording", "recording_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(NAME_LEN))
    role: Mapped[str] = mapped_column(String(CODE_LEN))
    action: Mapped[str] = mapped_column(String(CODE_LEN))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    remote_addr: Mapped[str] = mapped_column(String(AUDIT_LEN), default="")
    byte_range: Mapped[str] = mapped_column(String(AUDIT_LEN), default="")  # play/download
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")  # hold/release


# ---- quality assurance ---------------------------------------------------------------------
class QaForm(Base):
    __tablename__ = "qa_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(LABEL_LEN), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(NAME_LEN), default="")

    criteria: Mapped[list[QaCriterion]] = relationship(
        back_populates="form", cascade="all, delete-orphan", order_by="QaCriterion.position")


class QaCriterion(Base):
    __tablename__ = "qa_criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("qa_forms.id", ondelete="CASCADE"),
                                         index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(LABEL_LEN))
    description: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[float] = mapped_column(default=1.0)
    max_points: Mapped[int] = mapped_column(default=5)

    form: Mapped[QaForm] = relationship(back_populates="criteria")


class CalibrationSession(Base):
    """Several evaluators score the same call on the same form; the spread is shown."""

    __tablename__ = "qa_calibrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    form_id: Mapped[int] = mapped_column(ForeignKey("qa_forms.id"))
    title: Mapped[str] = mapped_column(String(LABEL_LEN))
    created_by: Mapped[str] = mapped_column(String(NAME_LEN))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class QaSample(Base):
    """A call drawn at random for an agent's monthly QA sample."""

    __tablename__ = "qa_samples"
    __table_args__ = (UniqueConstraint("month", "recording_id", name="uq_qa_samples_month_rec"),
                      Index("ix_qa_samples_month_agent", "month", "agent"))

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    agent: Mapped[str] = mapped_column(String(NAME_LEN))
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class QaEvaluation(Base):
    """One evaluator's scoring of one call; ``score_pct`` is the weighted result (0-100)."""

    __tablename__ = "qa_evaluations"
    __table_args__ = (Index("ix_qa_evaluations_agent", "agent", "submitted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    form_id: Mapped[int] = mapped_column(ForeignKey("qa_forms.id"))
    evaluator: Mapped[str] = mapped_column(String(NAME_LEN))
    agent: Mapped[str] = mapped_column(String(NAME_LEN))
    calibration_id: Mapped[int | None] = mapped_column(
        ForeignKey("qa_calibrations.id", ondelete="CASCADE"), default=None)
    score_pct: Mapped[float] = mapped_column()
    comment: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    scores: Mapped[list[QaScore]] = relationship(
        back_populates="evaluation", cascade="all, delete-orphan", order_by="QaScore.id")


class QaScore(Base):
    """A criterion's points in an evaluation, with the weight it had then (forms change)."""

    __tablename__ = "qa_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("qa_evaluations.id", ondelete="CASCADE"), index=True)
    criterion: Mapped[str] = mapped_column(String(LABEL_LEN))
    weight: Mapped[float] = mapped_column()
    points: Mapped[int] = mapped_column()
    max_points: Mapped[int] = mapped_column()

    evaluation: Mapped[QaEvaluation] = relationship(back_populates="scores")


class SurveyResponse(Base):
    """A caller's post-call rating (1-5 by keypad) of an answered queue call; ``score`` is
    None when the caller was asked but pressed nothing valid (the response rate counts it)."""

    __tablename__ = "qa_surveys"
    __table_args__ = (Index("ix_qa_surveys_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uniqueid: Mapped[str] = mapped_column(String(NAME_LEN), unique=True)  # the caller's channel
    queue: Mapped[str] = mapped_column(String(NAME_LEN))
    agent: Mapped[str] = mapped_column(String(NAME_LEN))
    score: Mapped[int | None] = mapped_column(default=None)
    language: Mapped[str] = mapped_column(String(LANGUAGE_LEN), default="en")
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class TwilioRecording(Base):
    """A recording Twilio holds for a call, to fetch (``status`` pending -> done | failed)."""

    __tablename__ = "twilio_recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    uniqueid: Mapped[str] = mapped_column(String(64), unique=True)
    recording_sid: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(512))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
