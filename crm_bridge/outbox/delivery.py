"""The bridge to external CRMs: an outbox (FixMyStreet's shape) and its delivery job.

Tickets are saved locally first (``service.open_ticket`` queues an ``OutboxItem``); this job
sends them. Each item keeps its idempotency key across retries, so a remote that processed a
request whose answer was lost returns the same id instead of making a second ticket. A remote
that is down delays delivery (exponential backoff, capped at an hour), never drops it.

One item is three steps: claim it (committed), build its request from the rows in a short
transaction and send it with no transaction open, then record the result in a new one.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from crm_bridge.models import Agency, OutboxItem, Ticket
from crm_bridge.outbox.errors import SendError
from crm_bridge.outbox.senders import Send, Sender
from crm_bridge.tickets import records
from foundation import retry
from foundation.claims import claim
from foundation.db import Database, utcnow

log = logging.getLogger(__name__)


def _prepare(senders: dict[str, Sender], item: OutboxItem, t: Ticket, agency: Agency) -> Send:
    return senders[item.destination].prepare(item, t, agency)


def _sent(send: Send | None) -> str:
    if send is None:
        raise SendError("nothing to send")
    return send()


def process_outbox(db: Database, senders: dict[str, Sender], now: datetime | None = None,
                   limit: int = 50) -> int:
    """Send due outbox items; returns how many were delivered."""
    now = now or utcnow()
    delivered = 0
    for item_id in claim(db, OutboxItem, now, limit):
        with db.session() as s:
            item = s.get(OutboxItem, item_id)
            t = s.get(Ticket, item.ticket_id) if item else None
            agency = s.get(Agency, item.agency_id) if item else None
            if item is None or t is None or agency is None:
                log.warning("outbox %s: its ticket or agency is gone; skipped", item_id)
                continue
            destination, code = item.destination, agency.code
            prepared = retry.attempt(partial(_prepare, senders, item, t, agency),
                                     (SendError, KeyError))
        # the transaction is over: the remote may take its time (up to 15 s) holding no lock
        outcome: retry.Outcome[str] = retry.attempt(partial(_sent, prepared.value), (SendError,)) \
            if prepared.ok else retry.Outcome(error=prepared.error)
        with db.session() as s:
            item = s.get(OutboxItem, item_id)
            t = s.get(Ticket, item.ticket_id) if item else None
            if item is None or t is None:
                continue
            item.attempts += 1
            item.locked_until = None
            if outcome.ok:
                item.status, item.remote_id, item.sent_at, item.last_error = \
                    "sent", outcome.value, utcnow(), None
                records.log(s, t, "routed", "system",
                            f"delivered to {code} ({destination}) as {outcome.value}",
                            public=False)
                delivered += 1
            else:
                item.last_error = outcome.error
                item.next_attempt_at = retry.DEFAULT.next_attempt(item.attempts, now)
                log.warning("outbox %s to %s failed (attempt %s): %s", item_id, code,
                            item.attempts, outcome.error)
    return delivered
