"""Queue notifications in the same transaction as the change that causes them.

The worker sends them (``crm_bridge.notify.delivery``); a failed send is retried with backoff, and
every message stays in ``crm_notifications`` as the notification log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from crm_bridge.config import CrmConfig
from crm_bridge.models import Agency, EscalationContact, Notification, Ticket
from crm_bridge.notify import messages, messages_es
from crm_bridge.sms import queries as optouts
from crm_bridge.tickets import translations
from crm_bridge.tickets.lifecycle import State, plain
from foundation.db import utcnow


def facts(t: Ticket, cfg: CrmConfig, lang: str = "en") -> messages.TicketFacts:
    """The ticket as a notice tells it; the type named in ``lang`` (the catalog's ``i18n``,
    English where it has none). Oversight and agency mail stay English."""
    due = t.due_at.astimezone(cfg.calendar.tz).date() if t.due_at else None
    return messages.TicketFacts(
        number=t.number or "", agency_name=t.agency.name,
        service_name=translations.text(t.service_type.i18n, lang, "name", t.service_type.name),
        state=plain(State(t.state)), expected=due, address=t.address, city=cfg.city_name)


def _add(session: Session, t: Ticket | None, kind: str, channel: str, to: str,
         subject: str, body: str, now: datetime | None) -> Notification:
    now = now or utcnow()
    n = Notification(ticket_id=t.id if t else None, kind=kind, channel=channel, recipient=to,
                     subject=subject, body=body, next_attempt_at=now, created_at=now)
    session.add(n)
    return n


def to_resident(session: Session, t: Ticket, kind: str, cfg: CrmConfig,
                note: str | None = None, now: datetime | None = None) -> None:
    """``kind``: created | status | closed. Honors the caller's notification preferences and
    an SMS opt-out (STOP); written in the resident's language (``Ticket.language``). A
    request opened by SMS gets no "created" text: the exchange's last reply was it."""
    es = t.language == "es"
    f = facts(t, cfg, "es" if es else "en")
    words = messages_es if es else messages
    if t.email and t.notify_email:
        if kind == "created":
            subject, body = words.created(
                f, f"Consulte su solicitud cuando quiera llamando al 311 con el número "
                   f"{t.number}." if es else
                f"Check its status any time by calling 311 and entering {t.number}.")
        elif kind == "closed":
            link = cfg.reopen_url(f.number)
            subject, body = words.closed(
                f, t.resolution or "",
                f"reábrala dentro de {cfg.reopen_window_days:g} días en {link} o llame al 311 "
                f"con el número {t.number}." if es else
                f"reopen it within {cfg.reopen_window_days:g} days at "
                f"{link} or call 311 with the number {t.number}.")
        else:
            subject, body = words.status_changed(f, note)
        _add(session, t, kind, "email", t.email, subject, body, now)
    if (t.phone and t.notify_sms and cfg.sms_enabled and not optouts.opted_out(session, t.phone)
            and not (kind == "created" and t.channel == "sms")):  # the exchange's reply said it
        extra = (f"Resolución: {t.resolution}" if es else f"Resolution: {t.resolution}") \
            if kind == "closed" else ""
        _add(session, t, kind, "sms", t.phone, "", words.sms(kind, f, extra), now)


def contact_for(session: Session, agency: Agency, level: int) -> tuple[str, str] | None:
    """(name, email) of the agency's oversight at ``level``, or the highest level below it."""
    contacts = sorted(agency.contacts, key=lambda c: c.level)
    below = [c for c in contacts if c.level <= max(level, 1)]
    chosen: EscalationContact | None = below[-1] if below else (contacts[0] if contacts else None)
    if chosen is not None:
        return chosen.name, chosen.email
    return (agency.name, agency.email) if agency.email else None


def to_oversight(session: Session, t: Ticket, kind: str, level: int, cfg: CrmConfig,
                 reason: str = "", percent: int = 75, now: datetime | None = None) -> str | None:
    """Warn (kind='warning') or escalate (kind='escalation') to the agency's ``level`` contact."""
    who = contact_for(session, t.agency, level)
    if who is None:
        return None
    name, email = who
    f = facts(t, cfg)
    if kind == "warning":
        subject, body = messages.sla_warning(f, name, percent)
    else:
        subject, body = messages.escalation(f, name, level, reason)
    _add(session, t, kind, "email", email, subject, body, now)
    return name


def agency_address(agency: Agency) -> str | None:
    """Where an agency reads mail about its tickets: its referral address when it takes
    tickets by e-mail, else its dispatch address."""
    if agency.external_kind == "email" and agency.external_email:
        return agency.external_email
    return agency.email


def resident_comment(session: Session, t: Ticket, text: str, cfg: CrmConfig,
                     now: datetime | None = None) -> bool:
    """Tell the ticket's agency what the resident added, and confirm it to the resident (in
    their language, when they take e-mail); False when the agency has no address."""
    f = facts(t, cfg)
    if t.email and t.notify_email:
        words = messages_es if t.language == "es" else messages
        subject, body = words.comment_received(f)
        _add(session, t, "comment", "email", t.email, subject, body, now)
    to = agency_address(t.agency)
    if not to:
        return False
    subject, body = messages.resident_comment(f, text)
    _add(session, t, "agency_comment", "email", to, subject, body, now)
    return True
