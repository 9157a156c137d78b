"""Deliver queued notifications: email over SMTP, SMS through Twilio's REST API.

Rows are claimed (``foundation.claims``) so two workers never send the same message; each is
sent outside any transaction and a failure is recorded and retried with the shared backoff
(``foundation.retry``) until ``notify_max_attempts``. A message that can never be sent (an
address with a line break, stored before the edges checked it) fails at once, as does a text
to a number that has since opted out (STOP, ``crm_bridge.sms``): it is never sent. Whatever
goes wrong with one message is recorded on it and the rest of the batch is still sent.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import partial

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_bridge.models import Notification, Ticket, TicketEvent
from crm_bridge.sms import queries as optouts
from foundation import retry
from foundation.claims import claim, each, settle
from foundation.db import Database, utcnow
from foundation.header_values import email_problem, one_line
from foundation.settings import Settings

log = logging.getLogger(__name__)
SEND_ERRORS = (OSError, smtplib.SMTPException, RuntimeError, requests.RequestException)
OPTED_OUT = "not sent: the resident opted out of texts (STOP)"


def _send(settings: Settings, channel: str, to: str, subject: str, body: str,
          number: str | None = None) -> str:
    if channel == "email":
        return send_email(settings, to, subject, body, thread_id(settings, number))
    if channel == "sms":
        return send_sms(settings, to, body)
    raise retry.Permanent(f"no such channel {channel!r}")


def thread_id(settings: Settings, number: str | None) -> str | None:
    """A notice's Message-ID carrying its ticket number (``<...t<number>@domain>``), so a
    resident's reply threads to the ticket by In-Reply-To (``crm_bridge.mail_in.parse``)."""
    if not number:
        return None
    return make_msgid(idstring=f"t{number}", domain=settings.mail_from.rpartition("@")[2]
                      or "civic311")


def send_email(settings: Settings, to: str, subject: str, body: str,
               message_id: str | None = None) -> str:
    """Send one message over SMTP; returns its Message-ID. A malformed recipient raises
    ``retry.Permanent`` before any connection; the subject is kept to one line. Every notice
    says ``Auto-Submitted: auto-generated`` (RFC 3834), so no auto-responder answers it, and,
    while e-mail in is on, replies go to the 311 address that reads them."""
    problem = email_problem(to)
    if problem:
        raise retry.Permanent(f"recipient refused: {problem}")
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = one_line(subject)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id or make_msgid(domain="civic311")
    msg["Auto-Submitted"] = "auto-generated"
    if settings.mail_in != "off" and settings.mail_in_address:
        msg["Reply-To"] = settings.mail_in_address
    msg.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        smtp.send_message(msg)
    return str(msg["Message-ID"])


def send_sms(settings: Settings, to: str, body: str) -> str:
    """POST to Twilio's Messages resource; returns the message SID."""
    sid, token = settings.twilio_account_sid, settings.twilio_auth_token
    if not (sid and token and settings.twilio_from_number):
        raise RuntimeError("SMS is not configured (twilio_account_sid/auth_token/from_number)")
    url = f"{settings.twilio_api_base.rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"
    resp = requests.post(url, data={"To": to, "From": settings.twilio_from_number, "Body": body},
                         auth=(sid, token), timeout=15)
    if resp.status_code == 400:  # Twilio refuses the message itself (an invalid number)
        raise retry.Permanent(f"Twilio refused the message: {resp.text[:200]}")
    if resp.status_code >= 400:
        raise RuntimeError(f"Twilio answered {resp.status_code}: {resp.text[:200]}")
    return str(resp.json().get("sid", ""))


def mask(recipient: str) -> str:
    """Enough to recognise, not enough to harvest: r***@example.org, ***1234."""
    if "@" in recipient:
        user, _, domain = recipient.partition("@")
        return f"{user[:1]}***@{domain}"
    return "***" + recipient[-4:]


def deliver_pending(db: Database, settings: Settings, now: datetime | None = None,
                    limit: int = 100) -> int:
    """Send due notifications; returns how many were sent."""
    now = now or utcnow()
    return each(db, Notification, claim(db, Notification, now, limit),
                lambda nid: _deliver(db, settings, nid, now), now,
                settings.notify_max_attempts)


def _deliver(db: Database, settings: Settings, nid: int, now: datetime) -> int:
    with db.session() as s:
        n = s.get(Notification, nid)
        if n is None:
            return 0
        channel, to, subject, body = n.channel, n.recipient, n.subject, n.body
        if channel == "sms" and optouts.opted_out(s, to):  # said STOP after it was queued
            settle(n, OPTED_OUT, now, settings.notify_max_attempts, permanent=True)
            return 0
        number = s.scalar(select(Ticket.number).where(Ticket.id == n.ticket_id)) \
            if n.ticket_id else None
    outcome = retry.attempt(partial(_send, settings, channel, to, subject, body, number),
                            SEND_ERRORS, retry.as_text)

    def record(s: Session) -> int:
        n = s.get(Notification, nid)
        if n is None:
            return 0
        if outcome.ok:
            n.attempts += 1
            n.locked_until = None
            n.status, n.sent_at, n.last_error = "sent", utcnow(), None
            if n.ticket_id:
                s.add(TicketEvent(ticket_id=n.ticket_id, kind="notified", actor="system",
                                  at=utcnow(), public=False,
                                  text=f"{n.kind} {channel} to {mask(to)}"))
            return 1
        settle(n, outcome.error or "", now, settings.notify_max_attempts,
               permanent=outcome.permanent)
        log.log(logging.WARNING if outcome.expected else logging.ERROR,
                "notification %s (%s) failed, attempt %s: %s", nid, channel, n.attempts,
                outcome.error)
        return 0

    if outcome.ok:  # sent is sent: its record waits out a database restart, never resent
        return db.write_after_effect(record)
    with db.session() as s:
        return record(s)
