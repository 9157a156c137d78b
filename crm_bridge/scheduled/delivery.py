"""The worker job of scheduled reports: plan each subscription's latest due period (one
send row per subscription and period, so no period is ever sent twice), then mail the
pending ones.

A send is claimed (``foundation.claims``), its report built in one short read, mailed over
SMTP outside any transaction, and the outcome recorded: sent, or the error with the shared
backoff (``foundation.retry``) until ``report_max_attempts``. Whatever goes wrong with one
send is recorded on it and the others still go out. A subscription only reports periods
that fell due after it was made; after a worker outage it sends the latest period only.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_bridge.scheduled import content, pdf
from crm_bridge.scheduled.models import ReportSend, ReportSubscription
from crm_bridge.scheduled.periods import Frequency, Period, ReportKind, latest_due
from foundation import retry
from foundation.claims import claim, each, settle
from foundation.db import Database, utcnow
from foundation.header_values import email_problem, one_line
from foundation.jobs import Job
from foundation.settings import Settings

log = logging.getLogger(__name__)
SEND_ERRORS = (OSError, smtplib.SMTPException)


def plan(db: Database, settings: Settings, now: datetime) -> int:
    """Add a pending send for every subscription's latest due period not yet planned."""
    tz = ZoneInfo(settings.timezone)
    added = 0
    with db.session() as s:
        subs = list(s.scalars(select(ReportSubscription)
                              .where(ReportSubscription.removed_at.is_(None))))
        wanted = []
        for sub in subs:
            period, due_at = latest_due(Frequency(sub.frequency), now.astimezone(tz),
                                        settings.report_send_hour)
            if due_at >= sub.created_at:
                wanted.append((sub.id, period))
        starts = {p.first for _, p in wanted}
        have = set(s.execute(select(ReportSend.subscription_id, ReportSend.period_start)
                             .where(ReportSend.period_start.in_(starts))).all()) if starts \
            else set()
    for sub_id, period in wanted:
        if (sub_id, period.first) in have:
            continue
        try:
            with db.session() as s:
                s.add(ReportSend(subscription_id=sub_id, period_start=period.first,
                                 period_end=period.last, next_attempt_at=now, created_at=now))
            added += 1
        except IntegrityError:  # another worker planned it first
            log.info("report send %s/%s already planned", sub_id, period.first)
    return added


def message(settings: Settings, to: str, report: content.Report,
            with_pdf: bool) -> EmailMessage:
    """The mail: text and HTML summary, the CSV, and the PDF when asked for."""
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = one_line(report.title)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="civic311")
    msg.set_content(content.to_text(report))
    msg.add_alternative(content.to_html(report, with_pdf), subtype="html")
    msg.add_attachment(content.to_csv(report).encode(), maintype="text", subtype="csv",
                       filename=f"{report.stem}.csv")
    if with_pdf:
        msg.add_attachment(pdf.render(report), maintype="application", subtype="pdf",
                           filename=f"{report.stem}.pdf")
    return msg


def _smtp(settings: Settings, msg: EmailMessage) -> str:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        smtp.send_message(msg)
    return str(msg["Message-ID"])


def _deliver(db: Database, settings: Settings, send_id: int, now: datetime) -> int:
    with db.session() as s:
        send = s.get(ReportSend, send_id)
        if send is None:
            return 0
        sub = send.subscription
        if sub.removed_at is not None:  # removed after this period was planned
            send.status, send.locked_until = "failed", None
            send.last_error = "the subscription was removed before the report went out"
            return 0
        frequency = Frequency(sub.frequency)
        to, agency = sub.email, sub.agency.code if sub.agency else None
        report = content.build(s, settings, frequency, ReportKind(sub.kind),
                               Period(send.period_start, send.period_end), agency, now)

    def send_it() -> str:
        problem = email_problem(to)
        if problem:
            raise retry.Permanent(f"recipient refused: {problem}")
        return _smtp(settings, message(settings, to, report, frequency is Frequency.MONTHLY))

    outcome = retry.attempt(send_it, SEND_ERRORS, retry.as_text)

    def record(s: Session) -> int:
        send = s.get(ReportSend, send_id)
        if send is None:
            return 0
        if outcome.ok:
            send.attempts += 1
            send.locked_until, send.last_error = None, None
            send.status, send.sent_at, send.message_id = "sent", utcnow(), outcome.value
            return 1
        settle(send, outcome.error or "", now, settings.report_max_attempts,
               permanent=outcome.permanent)
        log.log(logging.WARNING if outcome.expected else logging.ERROR,
                "report send %s failed, attempt %s: %s", send_id, send.attempts, outcome.error)
        return 0

    if outcome.ok:  # done is done: its record waits out a database restart
        return db.write_after_effect(record)
    with db.session() as s:
        return record(s)


def deliver(db: Database, settings: Settings, now: datetime, limit: int = 20) -> int:
    """Mail the due pending sends; returns how many went out."""
    return each(db, ReportSend, claim(db, ReportSend, now, limit),
                lambda sid: _deliver(db, settings, sid, now), now, settings.report_max_attempts)


def run(db: Database, settings: Settings, now: datetime | None = None) -> int:
    """Plan what fell due, then mail it; returns how many reports went out."""
    now = now or utcnow()
    plan(db, settings, now)
    return deliver(db, settings, now)


def jobs(settings: Settings, db: Database) -> list[Job]:
    return [Job("crm.scheduled_reports", lambda: run(db, settings), seconds=300)]
