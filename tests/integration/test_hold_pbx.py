"""Hold on the real Asterisk: the agent's phone holds the caller (re-INVITE a=sendonly) and
takes them back; the daemon's record keeps the hold time (from AMI Hold/Unhold) inside the
talk time that queue_log reports."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from acd.models import CallRecord
from foundation.db import Database
from tests.support.pbx import DaemonProc, Pbx, wait_until
from tests.support.truth import truth

pytestmark = pytest.mark.asterisk


def test_agent_hold_is_measured(clean_pbx: Pbx, daemon: DaemonProc, database: Database) -> None:
    clean_pbx.add_agent("100", ["citywide"], ring_ms=300, talk_ms=1500, hold=(1000, 3000))
    result = clean_pbx.call(calls=1, rate=1, hold_ms=30000,
                            caller_numbers=["+12125550177"]).wait(60)
    assert (result.successful, result.failed) == (1, 0)

    def finished() -> CallRecord | None:
        with database.session() as s:
            return s.scalar(select(CallRecord).where(CallRecord.ended_at.is_not(None)))

    rec = wait_until(finished, 15, what="the finished call record")
    logged = truth(clean_pbx.queue_log)[rec.uniqueid]
    assert rec.outcome == logged["outcome"] == "answered"
    assert rec.talk_s == logged["talk_s"]  # app_queue's talk time, the hold inside it
    assert rec.hold_s is not None and 2.0 <= rec.hold_s <= 4.5, rec.hold_s  # held 3 s
    # 1 s before and 1.5 s after the hold; app_queue's talk time is in whole seconds
    assert rec.talk_s > rec.hold_s + 1
