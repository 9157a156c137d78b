"""SIGKILL the daemon in the middle of live calls: after a restart, every call that queued
has a record, equal to what Asterisk's queue_log says, and none is duplicated."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from acd.daemon import RECONCILE_EVERY_S
from acd.models import CallRecord
from foundation.db import Database
from tests.support.pbx import Pbx, start_daemon, wait_until
from tests.support.records import differences
from tests.support.truth import truth

pytestmark = pytest.mark.asterisk
CALLS = 11


def all_queued_some_talking(pbx: Pbx) -> bool:
    events = pbx.queue_log_events()
    return "CONNECT" in events and events.count("ENTERQUEUE") == CALLS > events.count("CONNECT")


def test_no_call_is_lost_when_the_daemon_is_killed(clean_pbx: Pbx, database: Database,
                                                  tmp_path: Path) -> None:
    clean_pbx.add_agent("100", ["citywide"], ring_ms=300, talk_ms=4000)
    clean_pbx.add_agent("101", ["citywide"], ring_ms=300, talk_ms=4000)
    daemon = start_daemon(clean_pbx, database.url, tmp_path / "daemon.log")
    patient = clean_pbx.call(calls=8, rate=2, hold_ms=40000)
    # long enough to reach the queue (the line's announcements take seconds), too short to
    # be answered behind the patient ones: they abandon
    impatient = clean_pbx.call(calls=3, rate=1, hold_ms=8000)
    wait_until(lambda: all_queued_some_talking(clean_pbx), 30, interval=0.2,
               what="every call queued, some talking")
    daemon.kill9()  # mid-run: calls are waiting, ringing and talking
    lines = len(clean_pbx.queue_log_events())  # calls move on while the daemon is gone
    wait_until(lambda: len(clean_pbx.queue_log_events()) >= lines + 3, 30, interval=0.2,
               what="calls to move on while the daemon is down")
    daemon = start_daemon(clean_pbx, database.url, tmp_path / "daemon.log")
    try:
        assert patient.wait(120).failed == 0
        assert impatient.wait(60).failed == 0
        expected = wait_until(lambda: (t := truth(clean_pbx.queue_log)) and all(
            c["outcome"] for c in t.values()) and t, 30, what="every call to finish")
        assert len(expected) == CALLS
        assert {c["outcome"] for c in expected.values()} >= {"answered", "abandoned"}
        try:
            wait_until(lambda: not differences(database, expected), RECONCILE_EVERY_S + 30,
                       what="records equal to queue_log")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {differences(database, expected)}; daemon log:\n"
                                 f"{(tmp_path / 'daemon.log').read_text()[-3000:]}") from None
        with database.session() as s:
            assert s.scalar(select(func.count(CallRecord.id))) == CALLS
    finally:
        daemon.stop()
