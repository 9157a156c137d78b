"""Deliver queued notifications: email over SMTP, SMS through Twilio's REST API.

Rows are claimed (``locked_until``) so two workers never send the same message; a failure
is recorded and retried with exponential backoff until ``notify_max_attempts``.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import requests
from sqlalchemy import or_, select, update

from crm_bridge.models import Notification, OutboxItem, TicketEvent
from foundation.db import Database, utcnow
from foundation.settings import Settings

log = logging.getLogger(__name__)
LOCK = timedelta(minutes=2)


def backoff(attempts: int, base_s: float = 30.0, cap_s: float = 3600.0) -> timedelta:
    """Delay before retry number ``attempts`` (1-based): 30 s, 60 s, 2 min ... capped at 1 h."""
    return timedelta(seconds=min(cap_s, base_s * 2 ** max(0, attempts - 1)))


def send_email(settings: Settings, to: str, subject: str, body: str,
               message_id: str | None = None) -> str:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id or make_msgid(domain="civic311")
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
    if resp.status_code >= 400:
        raise RuntimeError(f"Twilio answered {resp.status_code}: {resp.text[:200]}")
    return str(resp.json().get("sid", ""))


def mask(recipient: str) -> str:
    """Enough to recognise, not enough to harvest: r***@example.org, ***1234."""
    if "@" in recipient:
        user, _, domain = recipient.partition("@")
        return f"{user[:1]}***@{domain}"
    return "***" + recipient[-4:]


def claim(db: Database, model: type[Notification] | type[OutboxItem], now: datetime,
          limit: int) -> list[int]:
    """Lock up to ``limit`` due rows of an outbox-like table; returns the claimed ids."""
    with db.session() as s:
        ids = list(s.scalars(
            select(model.id).where(model.status == "pending", model.next_attempt_at <= now,
                                   or_(model.locked_until.is_(None), model.locked_until < now))
            .order_by(model.next_attempt_at, model.id).limit(limit)))
    claimed = []
    for row_id in ids:
        with db.session() as s:
            res = s.execute(update(model).where(
                model.id == row_id, model.status == "pending",
                or_(model.locked_until.is_(None), model.locked_until < now))
                .values(locked_until=now + LOCK))
            if res.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(row_id)
    return claimed


def deliver_pending(db: Database, settings: Settings, now: datetime | None = None,
                    limit: int = 100) -> int:
    """Send due notifications; returns how many were sent."""
    now = now or utcnow()
    sent = 0
    for nid in claim(db, Notification, now, limit):
        with db.session() as s:
            n = s.get(Notification, nid)
            assert n is not None
            channel, to, subject, body = n.channel, n.recipient, n.subject, n.body
        error = None
        try:
            if channel == "email":
                send_email(settings, to, subject, body)
            else:
                send_sms(settings, to, body)
        except (OSError, smtplib.SMTPException, RuntimeError, requests.RequestException) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        with db.session() as s:
            n = s.get(Notification, nid)
            assert n is not None
            n.attempts += 1
            n.locked_until = None
            if error is None:
                n.status, n.sent_at, n.last_error = "sent", utcnow(), None
                sent += 1
                if n.ticket_id:
                    s.add(TicketEvent(ticket_id=n.ticket_id, kind="notified", actor="system",
                                      at=utcnow(), public=False,
                                      text=f"{n.kind} {channel} to {mask(to)}"))
            else:
                n.last_error = error
                n.next_attempt_at = now + backoff(n.attempts)
                if n.attempts >= settings.notify_max_attempts:
                    n.status = "failed"
                log.warning("notification %s (%s) failed, attempt %s: %s", nid, channel,
                            n.attempts, error)
    return sent
