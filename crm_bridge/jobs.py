"""Worker jobs of the CRM: SLA warnings/escalations, notifications, outbox, remote polling,
scheduled reports, e-mail in by IMAP, the report tallies and the backlog's count."""

from __future__ import annotations

from crm_bridge.config import from_settings
from crm_bridge.mail_in import imap_poll
from crm_bridge.notify.delivery import deliver_pending
from crm_bridge.outbox.delivery import process_outbox
from crm_bridge.outbox.polling import poll_remote
from crm_bridge.outbox.senders import default_senders
from crm_bridge.scheduled import delivery as scheduled_reports
from crm_bridge.tickets import backlog, tallies
from crm_bridge.tickets.sla import run_sla_checks
from foundation.db import Database
from foundation.jobs import Job
from foundation.settings import Settings


def jobs(settings: Settings, db: Database) -> list[Job]:
    cfg = from_settings(settings)
    senders = default_senders(settings, cfg)
    return [
        Job("crm.sla", lambda: run_sla_checks(db, cfg), seconds=60),
        Job("crm.notify", lambda: deliver_pending(db, settings), seconds=15),
        Job("crm.outbox", lambda: process_outbox(db, senders), seconds=20),
        Job("crm.poll", lambda: poll_remote(db, cfg), seconds=300),
        Job("crm.tallies", lambda: tallies.refresh(db, settings.timezone), seconds=60),
        Job("crm.backlog", lambda: backlog.refresh(db), seconds=60),
        *scheduled_reports.jobs(settings, db),
        *([Job("crm.mail_in", lambda: imap_poll.poll(db, settings),
               seconds=settings.mail_in_poll_s)] if settings.mail_in == "imap" else []),
    ]
