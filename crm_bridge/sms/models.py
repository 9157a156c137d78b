"""The SMS channel's tables: each phone's exchange, language and opt-out, and the inbound
messages already answered (Twilio retries a webhook; a MessageSid is answered once)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, UTCDateTime, utcnow


class SmsPhone(Base):
    """One resident's phone (E.164, as Twilio sends ``From``). ``opted_out`` is kept for as
    long as the row exists: no SMS notice is sent to the number while it is set."""

    __tablename__ = "crm_sms_phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    opted_out: Mapped[bool] = mapped_column(default=False, server_default=false())
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    exchange: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    last_text_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class SmsInbound(Base):
    """A message answered: its reply, given again to a retry of the same MessageSid."""

    __tablename__ = "crm_sms_inbound"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    reply: Mapped[str] = mapped_column(Text, default="")
