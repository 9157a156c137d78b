"""The one claim primitive on a real database: claimed rows are locked, and ``each`` settles a
row whose work raised (attempts, last error, next try, failed after the last) and goes on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from crm_bridge.models import Notification
from foundation.claims import claim, each
from foundation.db import Database

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _rows(db: Database, n: int) -> list[int]:
    with db.session() as s:
        rows = [Notification(kind="status", channel="email", recipient=f"r{i}@example.org",
                             subject="", body="x", next_attempt_at=NOW, created_at=NOW)
                for i in range(n)]
        s.add_all(rows)
        s.flush()
        return [r.id for r in rows]


def test_each_settles_the_row_that_raised_and_goes_on(database: Database) -> None:
    ids = _rows(database, 4)
    claimed = claim(database, Notification, NOW, limit=10)
    assert claimed == ids
    assert claim(database, Notification, NOW, limit=10) == []  # locked while being worked

    done: list[int] = []

    def work(row_id: int) -> int:
        if row_id == ids[1]:
            raise KeyError("a defect in this one row")
        with database.session() as s:
            n = s.get(Notification, row_id)
            assert n is not None
            n.status, n.locked_until = "sent", None
        done.append(row_id)
        return 1

    assert each(database, Notification, claimed, work, NOW, max_attempts=2) == 3
    assert done == [ids[0], ids[2], ids[3]]
    with database.session() as s:
        bad = s.get(Notification, ids[1])
        assert bad is not None and bad.status == "pending" and bad.attempts == 1
        assert bad.last_error == "KeyError: 'a defect in this one row'"
        assert bad.locked_until is None and bad.next_attempt_at == NOW + timedelta(seconds=30)
    later = NOW + timedelta(minutes=1)
    assert each(database, Notification, claim(database, Notification, later, 10), work, later,
                max_attempts=2) == 0
    with database.session() as s:
        assert s.scalars(select(Notification.status).where(Notification.id == ids[1])).one() \
            == "failed"
