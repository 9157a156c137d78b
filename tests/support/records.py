"""The call records compared with Asterisk's queue_log (``tests/support/truth.py``)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from acd.models import CallRecord
from foundation.db import Database
from tests.support.pbx import wait_until
from tests.support.truth import truth


def differences(db: Database, expected: dict[str, dict[str, object]]) -> list[object]:
    """Every record that is missing, extra or different from queue_log (empty: all equal)."""
    with db.session() as s:
        got = {r.uniqueid: r for r in s.scalars(select(CallRecord))}
    diff: list[object] = [("extra", u) for u in set(got) - set(expected)]
    for u, e in expected.items():
        r = got.get(u)
        if r is None:
            diff.append(("missing", u))
            continue
        mine = (r.outcome, r.wait_s, r.talk_s, r.agent or None)
        theirs = (e["outcome"], e["wait_s"], e["talk_s"], e["agent"] or None)
        if mine != theirs:
            diff.append((u, mine, theirs))
        elif r.outcome is not None and r.ended_at is None:
            diff.append((u, "no end time"))
    return diff


def finished(db: Database) -> dict[str, CallRecord]:
    with db.session() as s:
        return {r.uniqueid: r for r in s.scalars(
            select(CallRecord).where(CallRecord.ended_at.is_not(None)))}


def assert_records_equal_logs(db: Database, logs: dict[str, Path], calls: int) -> None:
    """Several nodes' records (one database) equal their queue_logs (node -> file) call for
    call: outcome, agent, wait and talk; a call with no end in its log (cut off by its
    Asterisk's death) is ``dropped`` by the system. ``calls``: how many there are in all."""
    records = wait_until(lambda: len(finished(db)) == calls and finished(db), 15,
                         what=f"{calls} finished call records")
    for node, queue_log in logs.items():
        logged = truth(queue_log)
        mine = {u: r for u, r in records.items() if r.node == node}
        assert set(mine) == set(logged), node
        for uid, rec in mine.items():
            want = logged[uid]
            if want["outcome"] is None:  # no end in the log: cut off by its Asterisk's death
                assert (rec.outcome, rec.hangup_side) == ("dropped", "system"), uid
                continue
            assert (rec.outcome, rec.agent, rec.wait_s, rec.talk_s) == (
                want["outcome"], want["agent"], want["wait_s"], want["talk_s"]), uid
    assert sum(len(truth(p)) for p in logs.values()) == calls
