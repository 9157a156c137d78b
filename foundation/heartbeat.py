"""Component heartbeats: each process reports its health to the shared database.

Processes share the database, never in-process state, so ``/status`` in the web process
reads what the daemon and the worker last wrote here. A standby worker (``role`` standby in
its detail) that stopped beating is left out: the active worker, not the spare, is the service.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from foundation.db import Base, UTCDateTime, utcnow

STALE_AFTER = timedelta(seconds=30)


class Heartbeat(Base):
    __tablename__ = "heartbeats"

    component: Mapped[str] = mapped_column(String(32), primary_key=True)
    ok: Mapped[bool] = mapped_column(default=False)
    detail: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def beat(session: Session, component: str, ok: bool, **detail: Any) -> None:
    row = session.get(Heartbeat, component)
    if row is None:
        row = Heartbeat(component=component)
        session.add(row)
    row.ok = ok
    row.detail = json.dumps(detail, default=str)
    row.updated_at = utcnow()


def forget(session: Session, component: str) -> None:
    """Drop ``component``'s row (a standby worker on its way out or becoming active)."""
    session.execute(delete(Heartbeat).where(Heartbeat.component == component))


def read_all(session: Session, now: datetime | None = None) -> dict[str, dict[str, Any]]:
    now = now or utcnow()
    out: dict[str, dict[str, Any]] = {}
    for row in session.scalars(select(Heartbeat)):
        fresh = now - row.updated_at <= STALE_AFTER
        detail = json.loads(row.detail)
        if not fresh and detail.get("role") == "standby":
            continue
        out[row.component] = {
            "ok": row.ok and fresh,
            "stale": not fresh,
            "updated_at": row.updated_at.isoformat(timespec="seconds"),
            **detail,
        }
    return out
