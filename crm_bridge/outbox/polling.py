"""Polling Open311 remotes for what happened to the tickets we sent them: closures and status
notes are applied locally (the remote's changes since the stored cursor)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from sqlalchemy import select

from crm_bridge.config import CrmConfig
from crm_bridge.models import Agency, OutboxItem, RemoteCursor, Ticket
from crm_bridge.outbox import open311_client
from crm_bridge.tickets import service
from foundation.db import Database, utcnow

log = logging.getLogger(__name__)


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
                rows, more = open311_client.get_updates(url or "", params)
            except (requests.RequestException, ValueError) as exc:
                log.warning("polling %s failed: %s", code, exc)
                break
            applied += _apply_updates(db, agency_id, code, rows, cfg, now)
            for r in rows:
                updated = _parse(r.get("updated_datetime"))
                if updated and updated > newest:
                    newest = updated
            if not more:
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
