"""Claiming due rows of an outbox-like table (columns ``id``, ``status``, ``next_attempt_at``,
``locked_until``) so two workers never send the same row; each claim commits on its own, so
nothing is held open while the caller talks to the outside world."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from foundation.db import Database

LOCK = timedelta(minutes=2)


def claim(db: Database, model: type[Any], now: datetime, limit: int,
          lock: timedelta = LOCK) -> list[int]:
    """Lock up to ``limit`` due pending rows of ``model`` until now + lock; returns their ids."""
    free = or_(model.locked_until.is_(None), model.locked_until < now)
    with db.session() as s:
        ids = list(s.scalars(
            select(model.id).where(model.status == "pending", model.next_attempt_at <= now, free)
            .order_by(model.next_attempt_at, model.id).limit(limit)))
    claimed = []
    for row_id in ids:
        with db.session() as s:
            res = s.execute(update(model).where(model.id == row_id, model.status == "pending", free)
                            .values(locked_until=now + lock))
            if res.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(row_id)
    return claimed
