"""Claiming due rows of an outbox-like table (columns ``id``, ``status``, ``next_attempt_at``,
``locked_until``) so two workers never send the same row; each claim commits on its own, so
nothing is held open while the caller talks to the outside world.

``settle`` records one failed attempt on a row (attempts, last error, next try, ``failed``
after the last one); ``each`` works through claimed ids one at a time and settles any row whose
work raised, so one bad row never aborts the batch or keeps the rows after it locked."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from foundation import retry
from foundation.db import Database

log = logging.getLogger(__name__)

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


def settle(row: Any, error: str, now: datetime, max_attempts: int | None, *,
           permanent: bool = False, backoff: retry.Backoff = retry.DEFAULT) -> None:
    """Record a failed attempt on ``row``; it is ``failed`` when permanent or out of attempts
    (``max_attempts`` None: retried for ever, at the capped backoff)."""
    row.attempts += 1
    row.locked_until = None
    row.last_error = error[:retry.ERROR_CHARS]
    row.next_attempt_at = backoff.next_attempt(row.attempts, now)
    if permanent or (max_attempts is not None and retry.exhausted(row.attempts, max_attempts)):
        row.status = "failed"


def each(db: Database, model: type[Any], ids: Iterable[int], work: Callable[[int], int],
         now: datetime, max_attempts: int | None) -> int:
    """Run ``work(id)`` for every claimed id, summing what it returns; a row whose work raised
    is settled with that error in a transaction of its own, and the next row goes on; when the
    database itself is unreachable the batch stops and the rows not worked are released."""
    done = 0
    ids = list(ids)
    for i, row_id in enumerate(ids):
        try:
            done += work(row_id)
        except OperationalError:
            # the database went away: no row after this one can be worked either; their
            # claims are let go once it is back, so the next run takes them at once
            log.warning("%s: database unreachable; %d claimed rows released for the next run",
                        model.__name__, len(ids) - i)
            release(db, model, ids[i:])
            break
        except Exception as exc:
            log.exception("%s %s: unexpected error, recorded on the row", model.__name__, row_id)
            try:
                with db.session() as s:
                    row = s.get(model, row_id)
                    if row is not None:
                        settle(row, retry.as_text(exc), now, max_attempts)
            except SQLAlchemyError:
                log.exception("%s %s: the error could not be recorded either", model.__name__,
                              row_id)
    return done


def release(db: Database, model: type[Any], ids: list[int]) -> None:
    """Unlock claimed rows nobody worked on (waiting a while for the database to be back);
    if it stays away their claims simply lapse at ``LOCK``."""
    def unlock(s: Any) -> None:
        s.execute(update(model).where(model.id.in_(ids), model.status == "pending")
                  .values(locked_until=None))

    try:
        db.write_after_effect(unlock)
    except OperationalError:
        log.warning("%s: %d claims left to lapse", model.__name__, len(ids))
