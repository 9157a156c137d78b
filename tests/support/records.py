"""The call records compared with Asterisk's queue_log (``tests/support/truth.py``)."""

from __future__ import annotations

from sqlalchemy import select

from acd.models import CallRecord
from foundation.db import Database


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
