"""The bridge to external CRMs: an outbox (FixMyStreet's shape) and its delivery job.

Tickets are saved locally first (``service.open_ticket`` queues an ``OutboxItem``); this job
sends them. Each item keeps its idempotency key across retries, so a remote that processed a
request whose answer was lost returns the same id instead of making a second ticket. A remote
that is down delays delivery (exponential backoff, capped at an hour), never drops it.

One item is three steps: claim it (committed), build its request from the rows in a short
transaction and send it with no transaction open, then record the result in a new one.
Whatever goes wrong with one item is recorded on it; the items after it are still sent.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from sqlalchemy.orm import Session

from crm_bridge.models import Agency, OutboxItem, Ticket
from crm_bridge.outbox.errors import SendError
from crm_bridge.outbox.senders import Send, Sender
from crm_bridge.tickets import records
from foundation import retry
from foundation.claims import claim, each, settle
from foundation.db import Database, utcnow

log = logging.getLogger(__name__)
BROKEN_MAX = 5  # attempts at an item that fails for a reason other than the remote being down


def _prepare(senders: dict[str, Sender], item: OutboxItem, t: Ticket, agency: Agency) -> Send:
    sender = senders.get(item.destination)
    if sender is None:
        raise retry.Permanent(f"no sender for destination {item.destination!r}")
    return sender.prepare(item, t, agency)


def _sent(send: Send | None) -> str:
    if send is None:
        raise SendError("nothing to send")
    return send()


def process_outbox(db: Database, senders: dict[str, Sender], now: datetime | None = None,
                   limit: int = 50) -> int:
    """Send due outbox items; returns how many were delivered."""
    now = now or utcnow()
    return each(db, OutboxItem, claim(db, OutboxItem, now, limit),
                lambda item_id: _deliver(db, senders, item_id, now), now, BROKEN_MAX)


def _deliver(db: Database, senders: dict[str, Sender], item_id: int, now: datetime) -> int:
    with db.session() as s:
        item = s.get(OutboxItem, item_id)
        t = s.get(Ticket, item.ticket_id) if item else None
        agency = s.get(Agency, item.agency_id) if item else None
        if item is None or t is None or agency is None:
            log.warning("outbox %s: its ticket or agency is gone; skipped", item_id)
            return 0
        destination, code = item.destination, agency.code
        prepared = retry.attempt(partial(_prepare, senders, item, t, agency), (SendError,))
    # the transaction is over: the remote may take its time (up to 15 s) holding no lock
    outcome: retry.Outcome[str] = retry.attempt(partial(_sent, prepared.value), (SendError,)) \
        if prepared.ok else retry.Outcome(error=prepared.error, permanent=prepared.permanent,
                                          expected=prepared.expected)

    def record(s: Session) -> int:
        item = s.get(OutboxItem, item_id)
        t = s.get(Ticket, item.ticket_id) if item else None
        if item is None or t is None:
            return 0
        if not outcome.ok:
            # a remote that is down (SendError) delays, never drops; anything else is a
            # defect of this item: failed now (Permanent) or after BROKEN_MAX attempts
            settle(item, outcome.error or "", now, BROKEN_MAX if not outcome.expected else None,
                   permanent=outcome.permanent)
            log.log(logging.WARNING if outcome.expected else logging.ERROR,
                    "outbox %s to %s failed (attempt %s): %s", item_id, code, item.attempts,
                    outcome.error)
            return 0
        item.attempts += 1
        item.locked_until = None
        item.status, item.remote_id, item.sent_at, item.last_error = \
            "sent", outcome.value, utcnow(), None
        records.log(s, t, "routed", "system",
                    f"delivered to {code} ({destination}) as {outcome.value}", public=False)
        return 1

    if outcome.ok:  # done is done: its record waits out a database restart
        return db.write_after_effect(record)
    with db.session() as s:
        return record(s)
