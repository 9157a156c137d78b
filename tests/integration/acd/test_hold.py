"""Hold time from AMI's Hold/Unhold: summed per call, closed by the call's end, part of
the talk time (AHT does not count it twice); calls rebuilt from queue_log say "unknown"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from acd import events as ev
from acd.metrics import summarize
from acd.models import CallRecord
from acd.normalizer import normalize
from acd.queries import facts
from acd.reconcile import apply_log
from acd.recorder import Recorder
from foundation.db import Database

T0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def test_ami_hold_events_become_call_held() -> None:
    hold = {"Event": "Hold", "Channel": "PJSIP/agent100-00000007", "Uniqueid": "1.9",
            "Linkedid": "1.7", "MusicClass": "default", "Timestamp": str(T0.timestamp())}
    assert normalize(hold) == ev.CallHeld(T0, "1.7", True)
    assert normalize({**hold, "Event": "Unhold"}) == ev.CallHeld(T0, "1.7", False)
    assert normalize({"Event": "Hold", "Channel": "x"}) is None  # malformed: dropped


def test_hold_is_summed_and_closed_by_the_end(database: Database) -> None:
    r = Recorder(database)
    r.apply_batch([ev.CallerJoined(at(0), "1.7", "1.7", "PJSIP/trunk-1", "citywide", 1, "", ""),
                   ev.CallAnswered(at(10), "1.7", "citywide", "100", 10, 2),
                   ev.CallHeld(at(30), "1.7", True), ev.CallHeld(at(31), "1.7", True)])
    r.apply_batch([ev.CallHeld(at(55), "1.7", False),  # 25 s, the repeated Hold ignored
                   ev.CallHeld(at(80), "1.7", True),
                   ev.CallCompleted(at(100), "1.7", "citywide", "100", 10, 90, "caller")])
    r.apply_batch([ev.CallHeld(at(120), "1.7", False)])  # after the end: nothing more
    with database.session() as s:
        rec = s.scalar(select(CallRecord).where(CallRecord.uniqueid == "1.7"))
        assert rec is not None and (rec.hold_s, rec.talk_s) == (45.0, 90.0)  # 25 + 20
        summary = summarize([facts(rec)], (30,), 5)
    assert summary.aht_s == 90.0  # talk already holds the 45 s on hold


def test_a_call_rebuilt_from_queue_log_has_unknown_hold(database: Database) -> None:
    t = int(T0.timestamp())
    apply_log(database, [f"{t}|{t}.1|citywide|NONE|ENTERQUEUE|menu:0|+12125550100|1",
                         f"{t + 5}|{t}.1|citywide|PJSIP/agent100|CONNECT|5|{t}.2|1",
                         f"{t + 65}|{t}.1|citywide|PJSIP/agent100|COMPLETEAGENT|5|60|1"])
    with database.session() as s:
        rec = s.scalar(select(CallRecord))
        assert rec is not None and rec.hold_s is None and rec.source == "queue_log"
        assert summarize([facts(rec)], (30,), 5).aht_s == 60.0
