"""The worker's erasure of residents' contact data on tickets closed more than
``retention_ticket_contact_days`` ago: first and last name, e-mail, phone, account and device
ids, and the address the resident's own notices went to.

An open ticket keeps its contact (the resident is told when it closes, and may reopen it for
``reopen_window_days``); a ticket reopened after its contact was erased simply has no one to
tell. What the ticket is about (type, place, dates, states, SLA) stays, so every report,
open-data row and performance figure reads the same.

A phone that texted the 311 number (``crm_sms_phones``) is caller ID: its number becomes a
pseudonym ``retention_caller_number_days`` after its last text, unless it opted out (STOP):
that row is what keeps every later notice from being texted to it, so it stays.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from crm_bridge.models import Notification, Ticket
from crm_bridge.sms.models import SmsPhone
from crm_bridge.tickets.lifecycle import State
from foundation.db import Database, utcnow
from foundation.erasure import (
    PSEUDONYM_PREFIX,
    Erased,
    ErasureAction,
    ErasureKind,
    ErasureRun,
    erase_each,
    held_back,
    is_pseudonym,
    pseudonym,
)
from foundation.jobs import Job
from foundation.settings import Settings

TABLE = "crm_tickets"
CONTACT = ("first_name", "last_name", "email", "phone", "account_id", "device_id")
ERASED_RECIPIENT = "(erased)"
MAX_PER_RUN = 50_000


def erase_ticket_contacts(db: Database, days: int, now: datetime) -> ErasureRun:
    """Empty the contact columns of tickets closed ``days`` ago or more."""
    cutoff = now - timedelta(days=days)
    with db.session() as s:
        skip = held_back(s, ErasureKind.TICKET_CONTACT, TABLE, now)
        q = select(Ticket.id).where(
            Ticket.state == State.CLOSED.value, Ticket.closed_at < cutoff,
            or_(*(getattr(Ticket, c).is_not(None) for c in CONTACT)))
        ids = [i for i in s.scalars(q.order_by(Ticket.id).limit(MAX_PER_RUN)) if i not in skip]

    def work(s: Session, row_id: int) -> Erased | None:
        t = s.get(Ticket, row_id)
        if t is None:
            return None
        fields = [c for c in CONTACT if getattr(t, c) is not None]
        addresses = [a for a in (t.email, t.phone) if a]
        if addresses:
            sent = s.execute(update(Notification).where(
                Notification.ticket_id == t.id, Notification.recipient.in_(addresses))
                .values(recipient=ERASED_RECIPIENT))
            if sent.rowcount:  # type: ignore[attr-defined]
                fields.append("notification recipients")
        for c in CONTACT:
            setattr(t, c, None)
        t.notify_email = t.notify_sms = False
        return Erased(ErasureAction.ANONYMISED, fields,
                      f"ticket {t.number}: contact kept {days} days after closure"
                      ) if fields else None

    return erase_each(db, ErasureKind.TICKET_CONTACT, TABLE, ids, work, now)


def erase_sms_numbers(db: Database, secret: str | None, days: int,
                      now: datetime) -> ErasureRun:
    """Pseudonymise the number of phones that last texted ``days`` ago or more (and forget
    any exchange left on them), except those that opted out."""
    cutoff, table = now - timedelta(days=days), SmsPhone.__tablename__
    with db.session() as s:
        skip = held_back(s, ErasureKind.CALLER_NUMBER, table, now)
        q = select(SmsPhone.id).where(SmsPhone.last_text_at < cutoff,
                                      SmsPhone.opted_out.is_(False),
                                      ~SmsPhone.phone.startswith(PSEUDONYM_PREFIX))
        ids = [i for i in s.scalars(q.order_by(SmsPhone.id).limit(MAX_PER_RUN)) if i not in skip]

    def work(s: Session, row_id: int) -> Erased | None:
        row = s.get(SmsPhone, row_id)
        if row is None or row.opted_out or is_pseudonym(row.phone):
            return None
        row.phone, row.exchange = pseudonym(secret or "", row.phone), None
        return Erased(ErasureAction.ANONYMISED, ["phone", "exchange"],
                      f"texter's number kept {days} days after the last text")

    return erase_each(db, ErasureKind.CALLER_NUMBER, table, ids, work, now)


def erase(settings: Settings, db: Database, now: datetime) -> dict[str, ErasureRun]:
    return {TABLE: erase_ticket_contacts(db, settings.retention_ticket_contact_days, now),
            SmsPhone.__tablename__: erase_sms_numbers(
                db, settings.secret_key, settings.retention_caller_number_days, now)}


def jobs(settings: Settings, db: Database) -> list[Job]:
    return [Job("crm.erasure", lambda: erase(settings, db, utcnow()), 3600)]
