"""The log of received mail: one row per message, whatever became of it. It makes intake
idempotent (a Message-ID seen once is never applied twice) and counts a sender's mail for the
hourly limit; a refused message is recorded here and nowhere else. It holds no personal data:
the Message-ID and the sender are kept only as digests (the sender's keyed with the
installation's secret, so the address cannot be read back), which is all the two rules need."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from foundation.db import Base, UTCDateTime, utcnow


class MailIn(Base):
    __tablename__ = "crm_mail_in"
    __table_args__ = (Index("ix_crm_mail_in_sender_received", "sender_key", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_key: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of Message-ID
    sender_key: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256 of the address
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))  # ``intake.Outcome``
    reason: Mapped[str] = mapped_column(String(255), default="")
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("crm_tickets.id", ondelete="SET NULL"), default=None)
