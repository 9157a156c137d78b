"""Outbound call records on SQLite and PostgreSQL: the desktop's request completed by the
dialplan, a desk phone's own call, each dial status's outcome, a second report ignored,
and the summary of a period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from acd.outbound import queries
from acd.outbound.models import OutboundCall, OutboundOutcome, Purpose
from foundation.db import Database

T0 = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def test_records_follow_the_call_and_summarize(database: Database) -> None:
    with database.session() as s:
        asked = queries.request(s, agent="100", by="agent1", purpose=Purpose.AGENCY,
                                number="4105550199", kind="local", queue="sanitation", now=T0)
        started = queries.start(s, asked.id, uniqueid="1700000000.1", agent="100",
                                number="4105550199", to_carrier="+14105550199", kind="local",
                                default_queue="citywide", now=T0 + timedelta(seconds=3))
        assert started.id == asked.id and started.queue == "sanitation"
        queries.finish(s, asked.id, "ANSWER", 42.0, T0 + timedelta(seconds=50))
        queries.finish(s, asked.id, "NOANSWER", None, T0 + timedelta(seconds=60))  # ignored
        # a desk phone dialling by itself: a record of its own, on the general line
        own = queries.start(s, None, uniqueid="1700000000.2", agent="101", number="911",
                            to_carrier="911", kind="emergency", default_queue="citywide",
                            now=T0 + timedelta(minutes=1))
        queries.finish(s, own.id, "BUSY", 0.0, T0 + timedelta(minutes=2))
        missed = queries.request(s, agent="102", by="agent3", purpose=Purpose.RESIDENT,
                                 number="8005550100", kind="toll_free", queue="citywide",
                                 now=T0 + timedelta(minutes=3))
        queries.agent_missed(s, missed.id, T0 + timedelta(minutes=4))
        s.commit()
    with database.session() as s:
        first = s.get(OutboundCall, asked.id)
        assert first is not None
        assert (first.outcome, first.talk_s, first.dial_status, first.to_carrier) == (
            OutboundOutcome.ANSWERED, 42.0, "ANSWER", "+14105550199")
        rows = queries.between(s, T0, T0 + timedelta(hours=1))
        assert [r.outcome for r in rows] == ["agent_missed", "busy", "answered"]
        assert queries.between(s, T0, T0 + timedelta(hours=1), agent="101")[0].purpose == "other"
        summary = queries.summarize(rows)
    assert (summary.calls, summary.answered, summary.talk_s) == (2, 1, 42.0)
    assert summary.answer_rate == 0.5 and summary.average_talk_s == 42.0
    assert summary.by_kind == {"emergency": 1, "local": 1}  # the missed one was never placed
    assert summary.by_outcome == {"agent_missed": 1, "busy": 1, "answered": 1}
