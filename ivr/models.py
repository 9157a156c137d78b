"""IVR tables: one row per call through the menu (keyed by the Asterisk uniqueid or the
Twilio CallSid), who heard which voicemail, and the supervisors' emergency notices
(callbacks: ivr/callback/models.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from foundation.db import Base, UTCDateTime

IVR_OUTCOMES = ("contained", "agent", "callback", "voicemail", "hangup")


class IvrCall(Base):
    """What one caller did in the menu. ``outcome`` is NULL while the caller is in the menu."""

    __tablename__ = "ivr_calls"
    __table_args__ = (Index("ix_ivr_calls_started", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uniqueid: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(16), default="asterisk")  # asterisk | twilio
    caller_number: Mapped[str | None] = mapped_column(String(64), default=None)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    option: Mapped[str | None] = mapped_column(String(16), default=None)
    ivr_path: Mapped[str] = mapped_column(String(255), default="")
    ticket_number: Mapped[str | None] = mapped_column(String(32), default=None)
    lookups: Mapped[int] = mapped_column(default=0)
    queue: Mapped[str | None] = mapped_column(String(64), default=None)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    notice_id: Mapped[int | None] = mapped_column(default=None)
    # a message left after hours: the file name in Asterisk's voicemail spool, or the URL of
    # Twilio's recording; its length in seconds
    voicemail: Mapped[str | None] = mapped_column(String(512), default=None)
    voicemail_s: Mapped[float | None] = mapped_column(default=None)


class VoicemailAccess(Base):
    """Audit log of voicemail: who heard which message, when, from where (one row per request,
    as for recordings: a browser's player asks in ranges). ``action`` is ``play`` (a file
    served from Asterisk's spool) or ``open`` (sent on to Twilio's copy)."""

    __tablename__ = "ivr_voicemail_access"
    __table_args__ = (Index("ix_ivr_voicemail_access_call", "ivr_call_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ivr_call_id: Mapped[int] = mapped_column(ForeignKey("ivr_calls.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    byte_range: Mapped[str] = mapped_column(String(64), default="")


class IvrNotice(Base):
    """An emergency or ad hoc notice said to every new caller until it expires."""

    __tablename__ = "ivr_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # an uploaded recording, 8 kHz mono 16-bit WAV, heard instead of ``text`` (then its
    # transcript); loaded only when asked for
    audio: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    audio_s: Mapped[float | None] = mapped_column(default=None)

    @property
    def recording_id(self) -> int | None:
        """Its id when callers hear a recording (``engine.Start.notice_recording``)."""
        return self.id if self.audio_s is not None else None


def active_notice(session: Session, now: datetime) -> IvrNotice | None:
    """The newest notice not expired nor withdrawn at ``now``."""
    return session.scalar(
        select(IvrNotice).where(IvrNotice.expires_at > now, IvrNotice.withdrawn_at.is_(None))
        .order_by(IvrNotice.created_at.desc(), IvrNotice.id.desc()).limit(1))
