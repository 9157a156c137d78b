"""The outbound call table."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, UTCDateTime


class OutboundOutcome(StrEnum):
    """How an outbound call ended (``outbound_calls.outcome``; NULL while it is live)."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"  # the carrier refused it or could not route it
    AGENT_MISSED = "agent_missed"  # the agent's own phone never answered (desktop calls)


class Purpose(StrEnum):
    """Why the agent called (chosen on the desktop; a desk phone's own call is ``other``)."""

    RESIDENT = "resident"  # calling a resident back
    AGENCY = "agency"
    OTHER = "other"


class OutboundCall(Base):
    __tablename__ = "outbound_calls"
    __table_args__ = (Index("ix_outbound_calls_requested", "requested_at"),
                      Index("ix_outbound_calls_agent", "agent", "requested_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    uniqueid: Mapped[str | None] = mapped_column(String(64), default=None)  # agent's channel
    agent: Mapped[str | None] = mapped_column(String(16), default=None)
    requested_by: Mapped[str | None] = mapped_column(String(64), default=None)  # user name
    purpose: Mapped[str] = mapped_column(String(16), default=Purpose.OTHER)
    number: Mapped[str] = mapped_column(String(32))  # the dialled digits (NANP dialling)
    to_carrier: Mapped[str | None] = mapped_column(String(32), default=None)  # as sent
    # the city's number the carrier was given (E.164; the trunk's caller_id then)
    caller_id: Mapped[str | None] = mapped_column(String(32), default=None)
    kind: Mapped[str] = mapped_column(String(16))  # dial_policy.NumberKind
    queue: Mapped[str | None] = mapped_column(String(64), default=None)  # recording policy
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    talk_s: Mapped[float | None] = mapped_column(default=None)
    dial_status: Mapped[str | None] = mapped_column(String(16), default=None)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
