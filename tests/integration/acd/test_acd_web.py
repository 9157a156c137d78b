"""Wallboard, agent commands, interval and agent reports through the web (no Asterisk)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from acd import live_store, rollup
from acd.live import LiveBoard
from acd.metrics import summarize
from acd.models import AgentCommand, AgentStateSpan, CallRecord, DayStat, IntervalStat
from acd.queries import facts
from foundation.db import Database, utcnow
from ivr.analytics import containment
from tests import conftest as c


def _record(s: Any, uid: str, queue: str, entered: datetime, outcome: str, wait: float,
            talk: float = 0.0, agent: str | None = None, acw: float = 0.0) -> None:
    s.add(CallRecord(uniqueid=uid, queue=queue, entered_at=entered, outcome=outcome,
                     wait_s=wait, talk_s=talk if outcome == "answered" else None, agent=agent,
                     hold_s=0.0, acw_s=acw, ended_at=entered + timedelta(seconds=wait + talk),
                     answered_at=entered + timedelta(seconds=wait) if outcome == "answered"
                     else None, source="ami"))


def test_pages_need_a_supervisor(app: Any, users: dict[str, str]) -> None:
    client = app.test_client()
    assert client.get("/wallboard").status_code == 302  # to the log-in page
    assert client.get("/wallboard/stream").status_code == 302
    assert client.get("/api/v1/wallboard").status_code == 401
    c.login(client, users["agent"])
    for path in ("/wallboard", "/wallboard/stream", "/reports/intervals", "/reports/agents"):
        assert client.get(path).status_code == 403, path
    client = app.test_client()
    c.login(client, users["supervisor"])
    page = client.get("/wallboard").get_data(as_text=True)
    assert "EventSource" in page and 'id="tiles"' in page


def test_wallboard_payload_counts_live_and_today(app: Any, database: Database,
                                                  users: dict[str, str]) -> None:
    now = utcnow()
    board = LiveBoard(["citywide", "noise"], {"citywide": 0})
    from acd import events as ev

    board.apply([
        ev.MemberState(now, "citywide", "100", "added", False, "", 1, False),
        ev.MemberState(now, "citywide", "101", "added", True, "lunch", 1, False),
        ev.MemberState(now, "noise", "101", "added", False, "", 1, False),
        ev.CallerJoined(now, "u1", "u1", "PJSIP/x", "citywide", 1, "5551", ""),
        ev.CallerJoined(now, "u2", "u2", "PJSIP/y", "citywide", 2, "5552", ""),
    ])
    with database.session() as s:
        live_store.publish(s, board.doc())
        _record(s, "a1", "citywide", now - timedelta(minutes=5), "answered", 10, 60, "100")
        _record(s, "a2", "citywide", now - timedelta(minutes=4), "answered", 50, 60, "100")
        _record(s, "a3", "citywide", now - timedelta(minutes=3), "abandoned", 40)
        _record(s, "a4", "citywide", now - timedelta(minutes=3), "abandoned", 2)  # short
    client = app.test_client()
    c.login(client, users["supervisor"])
    payload = client.get("/api/v1/wallboard").get_json()
    tile = next(t for t in payload["tiles"] if t["queue"] == "citywide")
    assert tile["waiting"] == 2
    assert tile["agents"]["available"] == 1 and tile["agents"]["paused"] == 1
    assert tile["members"][1]["reason"] == "lunch"
    assert (tile["offered"], tile["answered"], tile["abandoned"]) == (4, 2, 1)
    assert tile["service_level"]["30"] == pytest.approx(1 / 3)
    assert tile["abandon_rate"] == pytest.approx(1 / 3)
    noise = next(t for t in payload["tiles"] if t["queue"] == "noise")
    assert noise["agents"]["available"] == 1 and noise["waiting"] == 0


def test_agent_commands_are_validated_and_queued(app: Any, database: Database,
                                                 users: dict[str, str]) -> None:
    sup = app.test_client()
    c.login(sup, users["supervisor"])
    token = c.csrf_token(sup, "/wallboard")
    h = {"X-CSRFToken": token}
    r = sup.post("/api/v1/agents/100/commands", json={"action": "pause", "reason": "lunch"},
                 headers=h)
    assert r.status_code == 202
    for bad in ({"action": "explode"}, {"action": "pause", "reason": "nap"},
                {"action": "login"}, {"action": "login", "queue": "nowhere"}):
        r = sup.post("/api/v1/agents/100/commands", json=bad, headers=h)
        assert r.status_code == 400, bad
        assert r.get_json()["description"]
    assert sup.post("/api/v1/agents/100/commands", json={"action": "unpause"}).status_code == 400
    agent = app.test_client()
    c.login(agent, users["agent"])  # extension 100
    h = {"X-CSRFToken": c.csrf_token(agent, "/agent/console")}
    assert agent.post("/api/v1/agents/101/commands", json={"action": "pause"},
                      headers=h).status_code == 403
    r = agent.post("/api/v1/agents/100/commands", json={"action": "login", "queue": "noise"},
                   headers=h)
    assert r.status_code == 202
    with database.session() as s:
        rows = list(s.scalars(select(AgentCommand).order_by(AgentCommand.id)))
    assert [(x.action, x.agent, x.queue, x.reason, x.status) for x in rows] == [
        ("pause", "100", None, "lunch", "pending"), ("login", "100", "noise", "", "pending")]
    status = agent.get(f"/api/v1/agents/commands/{rows[1].id}").get_json()
    assert status["status"] == "pending"
    assert agent.get(f"/api/v1/agents/commands/{rows[0].id}").status_code == 200


def test_interval_report_equals_the_records(app: Any, database: Database,
                                            users: dict[str, str]) -> None:
    day = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)  # 09:00 in New York
    outcomes = ["answered", "answered", "abandoned", "timeout", "answered", "abandoned",
                "exit_key", "refused"]
    with database.session() as s:
        for i in range(80):
            o = outcomes[i % len(outcomes)]
            _record(s, f"r{i}", ("citywide", "noise")[i % 2], day + timedelta(minutes=3 * i + 1),
                    o, float((i * 7) % 90), 100.0 + i, "100" if o == "answered" else None, 5.0)
    settings = app.extensions["civic311.settings"]
    rollup.rollup(database, day - timedelta(hours=1), day + timedelta(hours=6),
                  settings.sl_thresholds_s, settings.short_abandon_s)
    client = app.test_client()
    c.login(client, users["manager"])
    body = client.get("/reports/intervals?day=2026-03-10&minutes=60&format=csv").get_data(
        as_text=True)
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 24
    with database.session() as s:
        for row in rows:
            start = datetime.fromisoformat(row["interval_start"])
            end = start + timedelta(hours=1)
            recs = [facts(r) for r in s.scalars(select(CallRecord).where(
                CallRecord.entered_at >= start, CallRecord.entered_at < end))]
            want = summarize(recs, settings.sl_thresholds_s, settings.short_abandon_s)
            assert int(row["offered"]) == want.offered
            assert int(row["answered"]) == want.answered
            assert int(row["abandoned"]) == want.abandoned
            sl = want.service_level(30)
            assert row["service_level_30s_pct"] == ("" if sl is None else f"{100 * sl:.1f}")
    assert sum(int(r["offered"]) for r in rows) == 80
    page = client.get("/reports/intervals?day=2026-03-10&minutes=30&queue=noise")
    assert page.status_code == 200 and page.get_data(as_text=True).count("<tr>") == 49
    assert client.get("/reports/intervals?day=2026-13-40").status_code == 400
    assert client.get("/reports/intervals?minutes=7").status_code == 400
    assert client.get("/reports/intervals?queue=atlantis").status_code == 400
    # recomputing never doubles
    rollup.rollup(database, day - timedelta(hours=1), day + timedelta(hours=6),
                  settings.sl_thresholds_s, settings.short_abandon_s)
    again = client.get("/reports/intervals?day=2026-03-10&minutes=60&format=csv")
    assert again.get_data(as_text=True) == body


def test_agent_performance_page(app: Any, database: Database, users: dict[str, str]) -> None:
    t0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
    with database.session() as s:
        for state, start, minutes in (("available", 0, 10), ("on_call", 10, 5),
                                      ("wrapup", 15, 1), ("paused", 16, 14)):
            s.add(AgentStateSpan(agent="100", state=state, reason="", ended_at=t0 + timedelta(
                minutes=start + minutes), started_at=t0 + timedelta(minutes=start)))
        _record(s, "p1", "citywide", t0 + timedelta(minutes=9), "answered", 60, 300, "100",
                acw=60)
    client = app.test_client()
    c.login(client, users["supervisor"])
    page = client.get("/reports/agents?day=2026-03-10").get_data(as_text=True)
    assert 'data-agent="100"' in page
    assert 'data-state="available" data-seconds="600"' in page
    assert 'data-state="paused" data-seconds="840"' in page
    assert ">37.5<" in page  # occupancy: (5 + 1) min busy over (5 + 1 + 10) min staffed
    assert ">360.0<" in page  # AHT: 300 s talk + 60 s wrap-up


def test_publish_bumps_the_version(database: Database) -> None:
    with database.session() as s:
        v1 = live_store.publish(s, {"queues": {}, "agents": []})
        v2 = live_store.publish(s, {"queues": {"citywide": []}, "agents": []})
    with database.session() as s:
        version, doc = live_store.board(s)
    assert (v1, v2, version) == (1, 2, 2) and json.dumps(doc["queues"]) == '{"citywide": []}'


def test_long_periods_read_the_rollups_and_equal_the_records(app: Any, database: Database,
                                                            users: dict[str, str]) -> None:
    from acd import queries

    now = utcnow()
    start = now - timedelta(days=3)
    outcomes = ["answered", "abandoned", "answered", "timeout", "answered", "refused"]
    with database.session() as s:
        for i in range(300):
            _record(s, f"l{i}", "citywide", start + timedelta(minutes=14 * i + 3),
                    outcomes[i % 6], float((i * 13) % 120), 90.0, "100", 4.0)
    settings = app.extensions["civic311.settings"]
    thresholds, short = settings.sl_thresholds_s, settings.short_abandon_s
    with database.session() as s:
        assert rollup.coverage(s) is None
    rollup.rollup(database, start, now + timedelta(minutes=15), thresholds, short)
    t0, t1 = start - timedelta(hours=1, minutes=7), now + timedelta(hours=1)
    with database.session() as s:
        since, as_of = rollup.coverage(s)  # type: ignore[misc]
        assert since <= start and as_of >= now
        raw = queries.raw_summary(s, t0, t1, None, thresholds, short)
        assert queries.summary(s, t0, t1, None, thresholds, short) == raw
        assert raw.offered == 300
        # the rollups are really read: change one stored interval (and its day's row, which
        # is read instead when that day lies wholly in the period: whether it does depends
        # on the hour the test runs) and the answer follows
        first = s.scalars(select(IntervalStat).order_by(IntervalStat.interval_start)).first()
        first.offered += 1000
        its_day = s.scalars(select(DayStat).where(
            DayStat.queue == first.queue, DayStat.day_start <= first.interval_start,
            DayStat.day_end > first.interval_start)).one()
        its_day.offered += 1000
    with database.session() as s:
        assert queries.summary(s, t0, t1, None, thresholds, short).offered == 1300
    client = app.test_client()
    c.login(client, users["manager"])
    body = client.get(f"/api/v1/metrics?from={t0.isoformat()}&to={t1.isoformat()}".replace(
        "+", "%2B")).get_json()
    assert body["offered"] == 1300


def _span(s: Any, agent: str, state: str, start: datetime, end: datetime | None) -> None:
    s.add(AgentStateSpan(agent=agent, state=state, reason="", started_at=start, ended_at=end))


def test_metrics_report_occupancy_and_calls_per_agent(app: Any, database: Database,
                                                      users: dict[str, str]) -> None:
    from click.testing import CliRunner

    from center.cli import cli

    t0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)

    def m(minutes: float) -> datetime:
        return t0 + timedelta(minutes=minutes)

    with database.session() as s:
        # 100: staffed 600 + 10 + 300 + 60 = 970 s (pause left out), handling 300 + 60 = 360 s
        for state, a, b in (("available", 0, 10), ("ringing", 10, 10 + 1 / 6),
                            ("on_call", 10 + 1 / 6, 15 + 1 / 6), ("wrapup", 15 + 1 / 6, 16 + 1 / 6),
                            ("paused", 16 + 1 / 6, 30)):
            _span(s, "100", state, m(a), m(b))
        # 101: staffed 1200 + 1200 + 300 + 900 = 3600 s within the hour, handling 1500 s
        for state, a, b in (("available", -30, 20), ("on_call", 20, 40), ("wrapup", 40, 45),
                            ("available", 45, 90)):
            _span(s, "101", state, m(a), m(b))
        _span(s, "102", "available", m(0), m(60))  # staffed 3600 s, answered nothing
        _record(s, "o1", "citywide", m(9.5), "answered", 30, 300, "100", acw=60)
        _record(s, "o2", "citywide", m(19), "answered", 60, 1200, "101", acw=300)
        _record(s, "o3", "noise", m(30), "answered", 20, 60, "101")
        _record(s, "o4", "citywide", m(31), "abandoned", 40)
        _record(s, "o5", "citywide", m(70), "answered", 5, 60, "102")  # after the period
    client = app.test_client()
    c.login(client, users["manager"])
    period = "from=2026-03-10T14:00:00Z&to=2026-03-10T15:00:00Z".replace("Z", "%2B00:00")
    whole = client.get(f"/api/v1/metrics?{period}").get_json()
    assert (whole["offered"], whole["answered"], whole["abandoned"]) == (4, 3, 1)
    assert whole["calls_per_agent"] == 1.5 and whole["agents_answering"] == 2
    assert whole["occupancy"] == round((360 + 1500) / (970 + 3600 + 3600), 4)  # 0.2277
    city = client.get(f"/api/v1/metrics?{period}&queue=citywide").get_json()
    assert city["calls_per_agent"] == 1.0 and city["agents_answering"] == 2
    assert city["occupancy"] == round(1860 / (970 + 3600), 4)  # 0.407
    noise = client.get(f"/api/v1/metrics?{period}&queue=noise").get_json()
    assert (noise["calls_per_agent"], noise["occupancy"]) == (1.0, round(1500 / 3600, 4))
    empty = client.get(f"/api/v1/metrics?{period}&queue=potholes").get_json()
    assert empty["occupancy"] is None and empty["calls_per_agent"] is None
    # the command line prints the same object
    out = CliRunner().invoke(cli, ["--database-url", database.url, "report", "calls", "--from",
                                   "2026-03-10T14:00:00+00:00", "--to", "2026-03-10T15:00:00+00:00",
                                   "--queue", "citywide", "--json"])
    assert out.exit_code == 0, out.output
    printed = json.loads(out.output)
    assert {k: printed[k] for k in ("occupancy", "calls_per_agent", "agents_answering")} == {
        k: city[k] for k in ("occupancy", "calls_per_agent", "agents_answering")}


def test_prometheus_exports_occupancy_and_calls_per_agent(app: Any, database: Database) -> None:
    now = utcnow()

    def ago(seconds: float) -> datetime:
        return now - timedelta(seconds=seconds)

    with database.session() as s:
        # 100: 40 s available, 30 s on a call, 10 s wrap-up, then paused (still): 40 / 80
        _span(s, "100", "available", ago(100), ago(60))
        _span(s, "100", "on_call", ago(60), ago(30))
        _span(s, "100", "wrapup", ago(30), ago(20))
        _span(s, "100", "paused", ago(20), None)
        _span(s, "101", "available", ago(100), ago(20))  # 80 s staffed, no call
        _record(s, "p1", "citywide", ago(70), "answered", 10, 30, "100", acw=10)
        _record(s, "p2", "citywide", ago(65), "answered", 1, 1, "100")
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'civic311_agent_occupancy_today{queue="citywide"} 0.5' in text
    assert 'civic311_calls_per_agent_today{queue="citywide"} 2.0' in text
    assert "civic311_agent_occupancy_all_queues_today 0.25" in text  # 40 / (80 + 80)
    assert "civic311_calls_per_agent_all_queues_today 2.0" in text
    assert 'civic311_agent_occupancy_today{queue="noise"}' not in text  # nobody answered it


def test_wallboard_shows_ivr_self_service_today(app: Any, database: Database,
                                                users: dict[str, str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from acd import wallboard
    from ivr.models import IvrCall

    now = utcnow()
    rows = [("status", "contained"), ("status", "contained"), ("status", "agent"),
            ("faq", "contained"), ("faq", "contained"), ("report", "agent"),
            ("agent", "agent"), ("after_hours", "voicemail"), (None, "hangup"),
            ("status", None)]  # still in the menu: not counted yet
    with database.session() as s:
        live_store.publish(s, {"queues": {}, "agents": []})
        for i, (option, outcome) in enumerate(rows):
            s.add(IvrCall(uniqueid=f"i{i}", started_at=now - timedelta(seconds=90 - i),
                          option=option, outcome=outcome, ivr_path="menu:", lookups=0))
    client = app.test_client()
    c.login(client, users["supervisor"])
    page = client.get("/wallboard").get_data(as_text=True)
    assert 'id="ivr"' in page and "IVR self-service today" in page
    ivr = client.get("/api/v1/wallboard").get_json()["ivr"]
    assert (ivr["calls"], ivr["contained"], ivr["agent"]) == (9, 4, 3)
    assert ivr["containment"] == round(4 / 7, 4)
    assert [(o["option"], o["calls"], o["containment"]) for o in ivr["options"]] == [
        ("status", 3, 0.6667), ("faq", 2, 1.0), ("after_hours", 1, None), ("agent", 1, 0.0)]
    assert ivr["options"][0]["label"] == "Request status" and ivr["more_options"] == 2

    # pushed: a contained call changes no board version, yet the open stream gets it
    monkeypatch.setattr(wallboard, "IVR_POLL_S", 0.0)
    hub = wallboard.Hub(app.extensions["civic311.settings"], database, containment)
    stream = hub.stream()
    try:
        first = json.loads(next(stream).split("data: ", 1)[1])["board"]
        assert first["ivr"]["calls"] == 9
        with database.session() as s:
            s.add(IvrCall(uniqueid="late", started_at=utcnow(), option="faq",
                          outcome="contained", ivr_path="menu:", lookups=0))
        pushed = json.loads(next(stream).split("data: ", 1)[1])["board"]
        assert pushed["version"] == first["version"]  # same board, new IVR figures
        assert (pushed["ivr"]["calls"], pushed["ivr"]["contained"]) == (10, 5)
    finally:
        stream.close()


def test_todays_interval_report_includes_the_last_minutes(app: Any, database: Database,
                                                          users: dict[str, str]) -> None:
    """Settled intervals come from the rollups; calls since their last run come from the
    records, so the page is live (it showed zeros for every interval 90 s into a demo)."""
    settings = app.extensions["civic311.settings"]
    now = utcnow()
    earlier = now - timedelta(hours=3)
    with database.session() as s:
        _record(s, "old", "citywide", earlier, "answered", 10.0, 60.0, "100")
    rollup.rollup(database, earlier - timedelta(hours=1), now + timedelta(minutes=15),
                  settings.sl_thresholds_s, settings.short_abandon_s)
    with database.session() as s:  # two calls after the rollups last ran
        _record(s, "new1", "citywide", utcnow() + timedelta(seconds=1), "answered", 5.0, 30.0,
                "100")
        _record(s, "new2", "citywide", utcnow() + timedelta(seconds=2), "abandoned", 40.0)
        settled = s.scalar(select(IntervalStat).where(IntervalStat.interval_start
                                                      == rollup.floor(earlier)))
        assert settled is not None
        settled.offered = 7  # proves the settled interval is read from its rollup
    client = app.test_client()
    c.login(client, users["supervisor"])
    tz = settings.timezone
    from zoneinfo import ZoneInfo

    day = now.astimezone(ZoneInfo(tz)).date().isoformat()
    if earlier.astimezone(ZoneInfo(tz)).date().isoformat() != day:
        return  # just after midnight in the city: the earlier call is on yesterday's page
    body = client.get(f"/reports/intervals?day={day}&minutes=15&format=csv").get_data(
        as_text=True)
    rows = {r["interval_start"]: r for r in csv.DictReader(io.StringIO(body))}
    by_start = {datetime.fromisoformat(k): v for k, v in rows.items()}
    assert by_start[rollup.floor(earlier)]["offered"] == "7"
    fresh = sum(int(v["offered"]) for k, v in by_start.items() if k >= rollup.floor(now))
    assert fresh == 2
    assert sum(int(v["answered"]) for k, v in by_start.items() if k >= rollup.floor(now)) == 1
