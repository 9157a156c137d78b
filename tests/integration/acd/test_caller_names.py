"""A caller name from the AMI stream that its column cannot hold (too long, NUL, control
characters: Asterisk passes on what the caller's side sent) is clipped and cleaned by the
recorder, and every call of the batch is still recorded (it used to fail the whole write on
PostgreSQL). The recorded stream, with one caller's name replaced, through the normalizer and
the recorder into a real database."""

from __future__ import annotations

from sqlalchemy import select

from acd.models import CallRecord
from acd.normalizer import normalize
from acd.recorder import Recorder
from foundation import limits
from foundation.db import Database
from tests.support.ami_stream import DATA, flat_messages
from tests.support.truth import truth


def test_an_unstorable_caller_name_is_clipped_and_every_call_recorded(
        database: Database) -> None:
    stream = flat_messages()
    joins = [m for m in stream if m.get("Event") == "QueueCallerJoin"]
    assert joins
    bad = "Mallory\x00\x1b[2J" + "\u00e9" * 400
    joins[0]["CallerIDName"] = bad
    domain = [d for d in (normalize(m) for m in stream) if d is not None]
    recorder = Recorder(database)
    for i in range(0, len(domain), 7):
        recorder.apply_batch(domain[i:i + 7])
    with database.session() as s:
        got = {r.uniqueid: r for r in s.scalars(select(CallRecord))}
    assert set(got) == set(truth(DATA / "queue_log_mixed.txt"))
    name = got[joins[0]["Uniqueid"]].caller_name
    limit = limits.max_length(CallRecord.caller_name)
    assert name is not None and len(name) == limit
    assert name.startswith("Mallory  [2J\u00e9") and name.isprintable()
