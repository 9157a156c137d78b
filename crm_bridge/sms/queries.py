"""Reads and writes of the SMS channel: a phone's row (locked while one text is answered),
the opt-out the notices obey, the answered MessageSids, and the clean-up of both."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_bridge.models import ServiceType, Ticket
from crm_bridge.sms.models import SmsInbound, SmsPhone
from crm_bridge.tickets.phones import variants

IDLE = timedelta(minutes=30)  # an exchange left this long is over
KEEP_INBOUND = timedelta(days=2)  # Twilio's retries come within minutes; kept well past them


def earlier_reply(session: Session, message_sid: str) -> str | None:
    """The reply already given to ``message_sid``, None if it is new."""
    return session.scalar(select(SmsInbound.reply).where(SmsInbound.message_sid == message_sid))


def claim_message(session: Session, message_sid: str, now: datetime) -> None:
    """Record ``message_sid`` as being answered, as the transaction's first write: the unique
    key makes a second try of the same message wait for this one and then fail with
    IntegrityError (its caller then reads the reply this one stored). Not in a savepoint:
    pysqlite commits a SAVEPOINT that opens a transaction when it is released."""
    session.add(SmsInbound(message_sid=message_sid, received_at=now, reply=""))
    session.flush()


def reply_to(session: Session, message_sid: str, reply: str) -> None:
    session.execute(update(SmsInbound).where(SmsInbound.message_sid == message_sid)
                    .values(reply=reply))


def phone_row(session: Session, phone: str, now: datetime) -> SmsPhone:
    """The phone's row, locked for this transaction (two texts of one phone are answered
    one after the other), created on the phone's first text."""
    q = select(SmsPhone).where(SmsPhone.phone == phone).with_for_update()
    row = session.scalar(q)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = SmsPhone(phone=phone, language="en", opted_out=False, last_text_at=now)
            session.add(row)
        return row
    except IntegrityError:  # its first two texts at once: the other one created it
        found = session.scalar(q)
        if found is None:
            raise
        return found


def opted_out(session: Session, phone: str | None) -> bool:
    """Whether the number (in any of its stored forms) has opted out of texts."""
    forms = variants(phone)
    return bool(forms) and session.scalar(
        select(func.count()).select_from(SmsPhone).where(
            SmsPhone.phone.in_(forms), SmsPhone.opted_out.is_(True))) != 0


def forget_old(session: Session, now: datetime) -> None:
    """Exchanges idle past ``IDLE`` lose what was typed (an address, answers); answered
    MessageSids older than ``KEEP_INBOUND`` are removed. Run on every inbound text."""
    session.execute(update(SmsPhone).where(SmsPhone.exchange.is_not(None),
                                           SmsPhone.last_text_at < now - IDLE)
                    .values(exchange=None))
    session.execute(delete(SmsInbound).where(SmsInbound.received_at < now - KEEP_INBOUND))


def popular_codes(session: Session, now: datetime, days: int = 90) -> list[str]:
    """Service codes by how many requests they had in the last ``days``, most first."""
    rows = session.execute(
        select(ServiceType.code, func.count(Ticket.id)).join(Ticket, Ticket.service_type_id
                                                             == ServiceType.id)
        .where(Ticket.requested_at >= now - timedelta(days=days))
        .group_by(ServiceType.code).order_by(func.count(Ticket.id).desc(), ServiceType.code))
    return [code for code, _ in rows]
