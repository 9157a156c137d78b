"""Polling Open311 remotes for what happened to the tickets we sent them.

Two steps, so that one bad update never stops the others: ``poll_remote`` pulls each remote's
changes since its stored cursor, keeps those about our tickets in ``crm_remote_updates`` and
moves the cursor on (a remote that fails is logged and the next one is polled); then every due
update is applied here in a transaction of its own, with the claim and backoff the outbox uses
(``foundation.claims``). An update the rules refuse (a closure note shorter than a resolution
must be, a parent whose child is still open) is retried (the child may close) and fails after
``APPLY_MAX`` attempts, with a note in the ticket's history; a malformed one fails at once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_bridge.config import CrmConfig
from crm_bridge.models import Agency, OutboxItem, RemoteCursor, RemoteUpdate, Ticket
from crm_bridge.outbox import open311_client
from crm_bridge.tickets import records, service
from crm_bridge.tickets.errors import CrmError
from foundation import retry
from foundation.claims import claim, each, settle
from foundation.db import Database, utcnow

log = logging.getLogger(__name__)
APPLY_MAX = 10  # attempts at an update the lifecycle rules refuse before it is failed


def _parse(value: Any) -> datetime | None:
    """The remote's ``updated_datetime``, or None when it is missing or not a date."""
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _text(value: Any, limit: int | None = None) -> str:
    """A remote's value as text a column takes (no NUL, which PostgreSQL refuses)."""
    text = str(value or "").replace("\x00", "")
    return text[:limit] if limit else text


def poll_remote(db: Database, cfg: CrmConfig, now: datetime | None = None,
                max_pages: int = 20) -> int:
    """Pull each Open311 remote's changes since its cursor, then apply the due ones; returns
    how many changed a ticket here."""
    now = now or utcnow()
    with db.session() as s:
        agencies = [(a.id, a.code, a.external_url) for a in
                    s.scalars(select(Agency).where(Agency.external_kind == "open311"))]
    for agency_id, code, url in agencies:
        try:
            _pull(db, agency_id, code, url or "", now, max_pages)
        except Exception:  # one remote's trouble never stops the others
            log.exception("polling %s failed; the other remotes are still polled", code)
    return apply_updates(db, cfg, now)


def _pull(db: Database, agency_id: int, code: str, url: str, now: datetime,
          max_pages: int) -> None:
    with db.session() as s:
        cursor = s.get(RemoteCursor, agency_id)
        since = (cursor.updated_after if cursor else None) or (now - timedelta(days=90))
    newest = since
    for page in range(1, max_pages + 1):
        params = {"updated_after": (since - timedelta(seconds=1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"), "page": str(page), "page_size": "200"}
        try:
            rows, more = open311_client.get_updates(url, params)
        except (requests.RequestException, ValueError) as exc:
            log.warning("polling %s failed: %s", code, exc)
            break
        if not isinstance(rows, list):
            log.warning("polling %s: the answer is not a list of requests", code)
            break
        newest = max(newest, _store(db, agency_id, rows, now) or newest)
        if not more:
            break
    with db.session() as s:
        cursor = s.get(RemoteCursor, agency_id) or RemoteCursor(agency_id=agency_id)
        cursor.updated_after, cursor.polled_at = newest, now
        s.merge(cursor)


def _store(db: Database, agency_id: int, rows: list[Any], now: datetime) -> datetime | None:
    """Keep the rows about our tickets as pending updates; returns the newest date seen (never
    past ``now``: a remote's clock far ahead must not carry the cursor past real changes)."""
    rows = [r for r in rows if isinstance(r, dict)]
    dates = [d for d in (_parse(r.get("updated_datetime")) for r in rows) if d]
    with db.session() as s:
        ids = {_text(r.get("service_request_id"), 128) for r in rows}
        ours = set(s.scalars(select(OutboxItem.remote_id).where(
            OutboxItem.agency_id == agency_id, OutboxItem.remote_id.in_(ids))))
        seen = {(u.remote_id, u.remote_updated) for u in s.scalars(select(RemoteUpdate).where(
            RemoteUpdate.agency_id == agency_id, RemoteUpdate.remote_id.in_(ours)))}
        for r in rows:
            key = (_text(r.get("service_request_id"), 128), _text(r.get("updated_datetime"), 64))
            if key[0] not in ours or key in seen:
                continue
            seen.add(key)
            s.add(RemoteUpdate(agency_id=agency_id, remote_id=key[0], remote_updated=key[1],
                               remote_status=_text(r.get("status"), 16),
                               notes=_text(r.get("status_notes")).strip(),
                               next_attempt_at=now, created_at=now))
    return min(max(dates), now) if dates else None


def apply_updates(db: Database, cfg: CrmConfig, now: datetime | None = None,
                  limit: int = 200) -> int:
    """Apply the due stored updates, each on its own; returns how many changed a ticket."""
    now = now or utcnow()
    return each(db, RemoteUpdate, claim(db, RemoteUpdate, now, limit),
                lambda uid: _apply(db, cfg, uid, now), now, APPLY_MAX)


def _apply(db: Database, cfg: CrmConfig, uid: int, now: datetime) -> int:
    def run() -> int:
        with db.session() as s:  # rolled back whole if the rules refuse the change
            u = s.get(RemoteUpdate, uid)
            if u is None:
                return 0
            changed = _apply_one(s, u, cfg, now)
            u.status, u.locked_until, u.last_error = "applied", None, None
            u.attempts += 1
            return changed

    outcome = retry.attempt(run, (CrmError,), retry.as_text)
    if outcome.ok:
        return outcome.value or 0
    with db.session() as s:
        u = s.get(RemoteUpdate, uid)
        if u is None:
            return 0
        settle(u, outcome.error or "", now, APPLY_MAX, permanent=outcome.permanent)
        log.warning("remote update %s (%s) not applied, attempt %s: %s", uid, u.remote_id,
                    u.attempts, outcome.error)
        t = _ticket(s, u)
        if u.status == "failed" and t is not None:
            records.log(s, t, "remote_update_failed", "system",
                        f"an update from {_code(s, u)} could not be applied: {u.last_error}",
                        public=False, now=now)
    return 0


def _ticket(s: Session, u: RemoteUpdate) -> Ticket | None:
    item = s.scalar(select(OutboxItem).where(OutboxItem.agency_id == u.agency_id,
                                             OutboxItem.remote_id == u.remote_id))
    t = s.get(Ticket, item.ticket_id) if item else None
    return t if t is not None and t.agency_id == u.agency_id else None


def _code(s: Session, u: RemoteUpdate) -> str:
    agency = s.get(Agency, u.agency_id)
    return agency.code if agency else str(u.agency_id)


def _apply_one(s: Session, u: RemoteUpdate, cfg: CrmConfig, now: datetime) -> int:
    if u.remote_updated and _parse(u.remote_updated) is None:
        raise retry.Permanent(f"updated_datetime {u.remote_updated!r} is not a date")
    t = _ticket(s, u)
    if t is None:
        raise retry.Permanent(f"no ticket of this agency was sent as {u.remote_id!r}")
    code = _code(s, u)
    if u.remote_status == "closed" and t.state != "closed":
        service.close(s, t, f"remote:{code}", "resolved", u.notes or f"Closed by {code}",
                      now=now, config=cfg)
        return 1
    if u.notes and u.notes != t.status_notes and t.state != "closed":
        service.comment(s, t, f"remote:{code}", u.notes, now=now)
        return 1
    return 0
