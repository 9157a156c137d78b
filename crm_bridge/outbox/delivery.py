"""The bridge to external CRMs: an outbox, one sender strategy per destination, and polling.

Tickets are saved locally first (``service.open_ticket`` queues an ``OutboxItem``); this job
sends them. Each item keeps its idempotency key across retries, so a remote that processed a
request whose answer was lost returns the same id instead of making a second ticket. A remote
that is down delays delivery (exponential backoff, capped at an hour), never drops it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import requests
from sqlalchemy import select

from crm_bridge.config import CrmConfig
from crm_bridge.models import Agency, OutboxItem, RemoteCursor, Ticket
from crm_bridge.notify import messages
from crm_bridge.notify.delivery import backoff, claim, send_email
from crm_bridge.notify.notices import facts
from crm_bridge.tickets import records, service
from foundation.db import Database, utcnow
from foundation.settings import Settings

log = logging.getLogger(__name__)
TIMEOUT_S = 15


class SendError(Exception):
    """The destination did not take the ticket this time (retry later)."""


class Sender(Protocol):
    def send(self, item: OutboxItem, t: Ticket, agency: Agency) -> str: ...


class Open311Sender:
    """Another city's (or an agency's) GeoReport v2 endpoint: POST requests.json."""

    def send(self, item: OutboxItem, t: Ticket, agency: Agency) -> str:
        data: dict[str, Any] = {
            "api_key": agency.external_api_key or "", "service_code": t.service_type.code,
            "description": t.description or t.service_type.name,
        }
        if t.lat is not None and t.long is not None:
            data.update(lat=str(t.lat), long=str(t.long))
        for key, value in (("address_string", t.address), ("address_id", t.address_id),
                           ("email", t.email), ("phone", t.phone), ("first_name", t.first_name),
                           ("last_name", t.last_name), ("media_url", t.media_url)):
            if value:
                data[key] = value
        if not any(k in data for k in ("lat", "address_string", "address_id")):
            data["address_string"] = "unknown"
        for code, value in (t.attributes or {}).items():
            if isinstance(value, list):
                data[f"attribute[{code}][]"] = value
            else:
                data[f"attribute[{code}]"] = str(value)
        url = f"{(agency.external_url or '').rstrip('/')}/requests.json"
        try:
            resp = requests.post(url, data=data, timeout=TIMEOUT_S,
                                 headers={"Idempotency-Key": item.idempotency_key})
        except requests.RequestException as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from exc
        if resp.status_code not in (200, 201):
            raise SendError(f"HTTP {resp.status_code}: {resp.text[:200]}")
        try:
            first = resp.json()[0]
            remote = first.get("service_request_id") or first.get("token")
        except (ValueError, LookupError, AttributeError):
            raise SendError(f"unreadable answer: {resp.text[:200]}") from None
        if not remote:
            raise SendError("the remote returned neither service_request_id nor token")
        return str(remote)


class EmailSender:
    """An agency without a system gets the ticket by email; the Message-ID is the remote id."""

    def __init__(self, settings: Settings, cfg: CrmConfig) -> None:
        self.settings, self.cfg = settings, cfg

    def send(self, item: OutboxItem, t: Ticket, agency: Agency) -> str:
        to = agency.external_email or agency.email
        if not to:
            raise SendError(f"agency {agency.code} has no email address")
        details = [(k, str(v)) for k, v in (t.attributes or {}).items()]
        subject, body = messages.referral(facts(t, self.cfg), t.description, details,
                                          item.idempotency_key)
        try:
            return send_email(self.settings, to, subject, body,
                              message_id=f"<{item.idempotency_key}@civic311>")
        except OSError as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from exc


def default_senders(settings: Settings, cfg: CrmConfig) -> dict[str, Sender]:
    return {"open311": Open311Sender(), "email": EmailSender(settings, cfg)}


def process_outbox(db: Database, senders: dict[str, Sender], now: datetime | None = None,
                   limit: int = 50) -> int:
    """Send due outbox items; returns how many were delivered."""
    now = now or utcnow()
    delivered = 0
    for item_id in claim(db, OutboxItem, now, limit):
        with db.session() as s:
            item = s.get(OutboxItem, item_id)
            assert item is not None
            t, agency = s.get(Ticket, item.ticket_id), s.get(Agency, item.agency_id)
            assert t is not None and agency is not None
            _ = (t.service_type, t.agency)  # load before the session closes
            error, remote = None, None
            try:
                remote = senders[item.destination].send(item, t, agency)
            except (SendError, KeyError) as exc:
                error = str(exc)[:500]
            item.attempts += 1
            item.locked_until = None
            if error is None:
                item.status, item.remote_id, item.sent_at, item.last_error = \
                    "sent", remote, utcnow(), None
                records.log(s, t, "routed", "system",
                            f"delivered to {agency.code} ({item.destination}) as {remote}",
                            public=False)
                delivered += 1
            else:
                item.last_error = error
                item.next_attempt_at = now + backoff(item.attempts)
                log.warning("outbox %s to %s failed (attempt %s): %s", item_id, agency.code,
                            item.attempts, error)
    return delivered


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def poll_remote(db: Database, cfg: CrmConfig, now: datetime | None = None,
                max_pages: int = 20) -> int:
    """Pull each Open311 remote's changes since the cursor; apply closures locally."""
    now = now or utcnow()
    applied = 0
    with db.session() as s:
        agencies = [(a.id, a.code, a.external_url) for a in
                    s.scalars(select(Agency).where(Agency.external_kind == "open311"))]
    for agency_id, code, url in agencies:
        with db.session() as s:
            cursor = s.get(RemoteCursor, agency_id) or RemoteCursor(agency_id=agency_id)
            since = cursor.updated_after or (now - timedelta(days=90))
        newest = since
        for page in range(1, max_pages + 1):
            params = {"updated_after": (since - timedelta(seconds=1)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"), "page": str(page), "page_size": "200"}
            try:
                resp = requests.get(f"{(url or '').rstrip('/')}/requests.json", params=params,
                                    timeout=TIMEOUT_S)
                resp.raise_for_status()
                rows = resp.json()
            except (requests.RequestException, ValueError) as exc:
                log.warning("polling %s failed: %s", code, exc)
                break
            applied += _apply_updates(db, agency_id, code, rows, cfg, now)
            for r in rows:
                updated = _parse(r.get("updated_datetime"))
                if updated and updated > newest:
                    newest = updated
            if "X-Next-Page-URL" not in resp.headers:
                break
        with db.session() as s:
            cursor = s.get(RemoteCursor, agency_id) or RemoteCursor(agency_id=agency_id)
            cursor.updated_after, cursor.polled_at = newest, now
            s.merge(cursor)
    return applied


def _apply_updates(db: Database, agency_id: int, code: str, rows: list[dict[str, Any]],
                   cfg: CrmConfig, now: datetime) -> int:
    applied = 0
    with db.session() as s:
        for r in rows:
            remote_id = str(r.get("service_request_id") or "")
            item = s.scalar(select(OutboxItem).where(OutboxItem.agency_id == agency_id,
                                                     OutboxItem.remote_id == remote_id))
            if item is None:
                continue
            t = s.get(Ticket, item.ticket_id)
            if t is None or t.agency_id != agency_id:
                continue
            note = (r.get("status_notes") or "").strip()
            if r.get("status") == "closed" and t.state != "closed":
                service.close(s, t, f"remote:{code}", "resolved",
                              note or f"Closed by {code}", now=now, config=cfg)
                applied += 1
            elif note and note != t.status_notes and t.state != "closed":
                service.comment(s, t, f"remote:{code}", note, now=now)
                applied += 1
    return applied
