"""The callback request table (virtual hold): one row per confirmed request."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, UTCDateTime
from ivr.callback.rules import CallbackState


class CallbackRequest(Base):
    """A waiting caller's callback (virtual hold), from the key press to its result.

    ``state`` follows ivr/callback/rules.py: requested -> originating -> waiting -> calling ->
    connected | failed. ``arrival_at`` is when the caller first joined the queue: the
    placeholder is placed behind exactly the callers who arrived before it.
    ``placeholder_uniqueid`` is the queued Local channel's uniqueid (its own call record).
    """

    __tablename__ = "ivr_callbacks"
    __table_args__ = (Index("ix_ivr_callbacks_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    original_uniqueid: Mapped[str] = mapped_column(String(64), unique=True)
    queue: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(32))
    dial: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8), default="en")
    arrival_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16), default=CallbackState.REQUESTED)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    originated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    placeholder_uniqueid: Mapped[str | None] = mapped_column(String(64), default=None)
    placeholder_channel: Mapped[str | None] = mapped_column(String(128), default=None)
    position: Mapped[int | None] = mapped_column(default=None)
    calling_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    detail: Mapped[str] = mapped_column(Text, default="")
