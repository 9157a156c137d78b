"""Report subscriptions and the log of every send (claimed, retried, never twice a period)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_bridge.models import Agency
from foundation.db import Base, UTCDateTime, utcnow


class ReportSubscription(Base):
    """One person (or agency contact) who gets a report at a frequency; removing it keeps
    its send log (``removed_at`` set)."""

    __tablename__ = "crm_report_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    email: Mapped[str] = mapped_column(String(255))
    frequency: Mapped[str] = mapped_column(String(8))  # periods.Frequency
    kind: Mapped[str] = mapped_column(String(16))  # periods.ReportKind
    # an agency contact's requests figures are that agency's; None: the whole center
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("crm_agencies.id"), default=None)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    agency: Mapped[Agency | None] = relationship()


class ReportSend(Base):
    """One period of one subscription: pending until mailed, then sent (or failed)."""

    __tablename__ = "crm_report_sends"
    __table_args__ = (
        UniqueConstraint("subscription_id", "period_start", name="uq_crm_report_sends_period"),
        Index("ix_crm_report_sends_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("crm_report_subscriptions.id"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # included
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    message_id: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    subscription: Mapped[ReportSubscription] = relationship()
