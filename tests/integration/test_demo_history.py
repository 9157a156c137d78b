"""``seed demo``'s history on SQLite and PostgreSQL: tickets in every state through the
ticket service, QA and a plan, written once; and the pages a newcomer opens show it."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from click.testing import CliRunner

from acd.history import SOURCE
from acd.models import AgentStateSpan, CallRecord, IntervalStat
from center.history import HistoryOptions, crm_config, seed_history
from center.seed import seed_demo
from crm_bridge.models import Notification, Ticket
from crm_bridge.tickets.lifecycle import State
from crm_bridge.tickets.sla import run_sla_checks
from foundation.db import utcnow
from recordings.catalog import pending_calls
from recordings.models import (
    CalibrationSession,
    QaEvaluation,
    QaSample,
    Recording,
    RecordingStatus,
    SurveyResponse,
)
from tests.conftest import login
from workforce.models import WfmForecast, WfmSchedule

SMALL = HistoryOptions(months=0.75, volume=120, tickets_per_day=8, seed=5)
TABLES = (CallRecord, AgentStateSpan, IntervalStat, Ticket, Recording, QaSample, QaEvaluation,
          CalibrationSession, SurveyResponse, WfmForecast, WfmSchedule, Notification)


def _seed(settings, db):  # type: ignore[no-untyped-def]
    list(seed_demo(settings, db))
    return list(seed_history(settings, db, SMALL))


def _counts(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return {m.__name__: s.scalar(sa.select(sa.func.count()).select_from(m)) or 0
                for m in TABLES}


def test_history_has_every_state_and_is_written_once(settings, database) -> None:  # type: ignore[no-untyped-def]
    _seed(settings, database)
    first = _counts(database)
    assert all(first[m.__name__] > 0 for m in TABLES), first
    with database.session() as s:
        tickets = list(s.scalars(sa.select(Ticket)))
        states = Counter(t.state for t in tickets)
        assert set(states) == {st.value for st in State}, states
        closed = [t for t in tickets if t.state == State.CLOSED]
        assert all(t.resolution and t.closure_reason and t.closed_at for t in closed)
        assert all(t.wire_status == ("closed" if t.state == State.CLOSED else "open")
                   for t in tickets)
        now = utcnow()
        assert any(t.due_at < now for t in tickets if t.state != State.CLOSED)  # overdue
        assert any(t.escalation_level > 0 for t in tickets)
        assert any(t.closed_at > t.due_at for t in closed)  # some closed late
        assert len({t.agency_id for t in tickets}) >= 5
        assert all(t.requested_at < now for t in tickets)
        # phone tickets sit on their call's record
        linked = dict(s.execute(sa.select(CallRecord.uniqueid, CallRecord.ticket_number)
                                .where(CallRecord.ticket_number.is_not(None))).all())
        by_call = {t.call_uniqueid: t.number for t in tickets if t.call_uniqueid}
        assert linked == by_call and linked
        # nothing of the past is left for the worker to mail today
        assert s.scalar(sa.select(sa.func.count()).select_from(Notification)
                        .where(Notification.status == "pending")) == 0
        # every answered call is catalogued; the sampled ones have a playable stand-in
        answered = s.scalar(sa.select(sa.func.count()).select_from(CallRecord).where(
            CallRecord.source == SOURCE, CallRecord.outcome == "answered"))
        assert first["Recording"] == answered
        sampled = list(s.scalars(sa.select(Recording).join(
            QaSample, QaSample.recording_id == Recording.id)))
        assert sampled and all(r.status == RecordingStatus.OK for r in sampled)
        assert all((settings.data_dir / str(r.path)).stat().st_size > 1000 for r in sampled)
        assert {e.agent for e in s.scalars(sa.select(QaEvaluation))} <= set(
            settings.agent_extensions)
    # the worker's first run finds no past work: no SLA stage due, no call to catalogue
    assert run_sla_checks(database, crm_config(settings), now=utcnow()) == 0
    with database.session() as s:
        assert pending_calls(s, utcnow()) == []
    again = list(seed_history(settings, database, SMALL))
    assert _counts(database) == first
    assert all("already" in line for line in again), again


def test_pages_show_the_past(settings, database, app) -> None:  # type: ignore[no-untyped-def]
    from foundation.users import create_user

    _seed(settings, database)
    with database.session() as s:
        for name, role, extra in (("m1", "manager", {}), ("q1", "qa", {}),
                                  ("a1", "agency", {"agency": "DSNY"})):
            create_user(s, name, "correct-horse-battery", role, **extra)
    tz = ZoneInfo(settings.timezone)
    yesterday = utcnow().astimezone(tz).date() - timedelta(days=1)
    c = app.test_client()
    assert login(c, "m1").status_code == 302
    page = c.get(f"/reports/intervals?day={yesterday}&minutes=60").get_data(as_text=True)
    offered = sum(int(n) for n in re.findall(
        r'<td>\d\d:\d\d</td><td class="num">(\d+)</td>', page))
    start = datetime.combine(yesterday, time(0), tzinfo=tz)
    with database.session() as s:
        truth = s.scalar(sa.select(sa.func.count()).select_from(CallRecord).where(
            CallRecord.entered_at >= start, CallRecord.entered_at < start + timedelta(days=1)))
        fid = s.scalar(sa.select(WfmForecast.id).join(
            WfmSchedule, WfmSchedule.forecast_id == WfmForecast.id))
    assert offered == truth > 0
    index = c.get("/wfm/").get_data(as_text=True)
    assert f'forecast_id={fid}' in index or f"/wfm/forecasts/{fid}" in index
    plan = c.get(f"/wfm/forecasts/{fid}")
    assert plan.status_code == 200 and "scheduled" in plan.get_data(as_text=True)
    c = app.test_client()
    assert login(c, "a1").status_code == 302
    queue = c.get("/crm/queue").get_data(as_text=True)
    assert len(re.findall(r'data-number="\d+"', queue)) > 0 and "overdue" in queue
    c = app.test_client()
    assert login(c, "q1").status_code == 302
    month = f"{yesterday:%Y-%m}"
    samples = c.get(f"/qa/?month={month}").get_data(as_text=True)
    assert len(re.findall(r'data-recording="\d+"', samples)) >= len(settings.agent_extensions)
    scores = c.get("/qa/scores").get_data(as_text=True)
    agent = settings.agent_extensions[0]
    assert f'data-month="{month}"' in scores and f'data-key="{agent}"' in scores
    with database.session() as s:
        cal = s.scalar(sa.select(CalibrationSession.id))
        asked = s.scalar(sa.select(sa.func.count()).select_from(SurveyResponse))
    spread = c.get(f"/qa/calibrations/{cal}").get_data(as_text=True)
    assert 'data-evaluator="qa"' in spread and 'data-evaluator="supervisor"' in spread
    surveys = c.get("/qa/surveys?days=60").get_data(as_text=True)
    assert asked > 0 and f'data-key="{agent}"' in surveys


def test_seed_demo_command_writes_history_unless_told_not_to(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from center.cli import cli

    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = f"sqlite:///{tmp_path / 'c.db'}"
    base = ["--data-dir", str(tmp_path / "data"), "--database-url", url, "seed", "demo"]
    res = CliRunner().invoke(cli, [*base, "--no-history"])
    assert res.exit_code == 0, res.output
    assert "history" not in res.output
    bad = CliRunner().invoke(cli, [*base, "--months", "0"])
    assert bad.exit_code == 2 and "months" in bad.output
    res = CliRunner().invoke(cli, [*base, "--months", "0.3", "--volume", "60",
                                   "--tickets-per-day", "3"])
    assert res.exit_code == 0, res.output
    assert re.search(r"history: \d+ calls over 9 days", res.output)
    res = CliRunner().invoke(cli, [*base, "--months", "0.3"])
    assert res.exit_code == 0 and "calls from" in res.output and "already stored" in res.output
