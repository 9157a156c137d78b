"""The call report over any range, on seeded months of history: every period's figures,
the year-before comparison, the profiles, the breakdowns and the repeat callers equal an
independent computation over the call records, and the pause time by reason and the month
report's occupancy one over the agent state spans (read from their rollups); callbacks
requested vs completed equal a count over the stored callback requests."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from acd import rollup
from acd.models import AgentStateSpan, CallRecord
from center.history import HistoryOptions, seed_history
from center.seed import seed_demo
from foundation.db import utcnow
from ivr.callback.models import CallbackRequest
from tests.conftest import login

PAST = HistoryOptions(months=2.5, volume=40, tickets_per_day=1, seed=12, plan=False)


def figures(calls: list[CallRecord]) -> dict[str, object]:
    """Offered, answered and the strict service level / abandon rate (default definitions)."""
    short = sum(1 for c in calls if c.outcome == "abandoned" and (c.wait_s or 0) < 5)
    refused = sum(1 for c in calls if c.outcome == "refused")
    within = sum(1 for c in calls if c.outcome == "answered" and (c.wait_s or 0) <= 30)
    not_served = sum(1 for c in calls if c.outcome in ("timeout", "exit_key", "exit_empty",
                                                       "dropped")
                     or (c.outcome == "abandoned" and (c.wait_s or 0) >= 5))
    entered = len(calls) - refused - short
    return {"offered": len(calls), "answered": sum(c.outcome == "answered" for c in calls),
            "sl": round(within / entered, 4) if entered else None,
            "abandon_rate": round(not_served / (len(calls) - short), 4)
            if len(calls) - short else None}


def test_range_report_equals_the_records(settings, database, app, users) -> None:  # type: ignore[no-untyped-def]
    list(seed_demo(settings, database))
    list(seed_history(settings, database, PAST))
    tz = ZoneInfo(settings.timezone)
    today = utcnow().astimezone(tz).date()
    first, last = today.replace(day=1) - timedelta(days=45), today - timedelta(days=1)
    first = first.replace(day=1)
    ago = datetime.combine(first.replace(year=first.year - 1), time(10), tz)
    with database.session() as s:  # two calls a year before, for the comparison
        for i, outcome in enumerate(("answered", "abandoned")):
            s.add(CallRecord(uniqueid=f"ago{i}", queue="citywide", entered_at=ago, wait_s=12.0,
                             outcome=outcome, talk_s=60.0 if i == 0 else None, hold_s=0,
                             acw_s=0, agent="100" if i == 0 else None, source="ami"))
        calls = [c for c in s.scalars(sa.select(CallRecord).where(
            CallRecord.outcome.is_not(None))) if not (c.ivr_path or "").startswith("callback:")]
        spans = list(s.scalars(sa.select(AgentStateSpan)))
        s.expunge_all()
    client = app.test_client()
    login(client, users["manager"])
    doc = client.get(f"/reports/calls?from={first}&to={last}&by=month&format=json").get_json()

    def local(c: CallRecord) -> date:
        return c.entered_at.astimezone(tz).date()

    inside = [c for c in calls if first <= local(c) <= last]
    assert len(inside) > 500
    for p in doc["periods"]:
        start = date.fromisoformat(p["start"])
        mine = [c for c in inside if (local(c).year, local(c).month) == (start.year,
                                                                          start.month)]
        want = figures(mine)
        assert (p["offered"], p["answered"], p["service_level"]["30"], p["abandon_rate"]) == (
            want["offered"], want["answered"], want["sl"], want["abandon_rate"]), start
    assert doc["total"]["offered"] == len(inside)
    assert doc["a_year_before"]["offered"] == 2 and doc["a_year_before"]["answered"] == 1
    assert sum(doc["by_hour"].values()) == len(inside) == sum(doc["by_weekday"].values())
    hours = Counter(c.entered_at.astimezone(tz).hour for c in inside)
    assert {int(h): n for h, n in doc["by_hour"].items() if n} == dict(hours)
    weekdays = Counter(local(c).strftime("%a") for c in inside)
    assert doc["by_weekday"]["Mon"] == weekdays["Mon"] > doc["by_weekday"]["Sun"]
    answered = [c for c in inside if c.outcome == "answered"]
    assert doc["hangup_side"] == dict(Counter(c.hangup_side or "none" for c in answered))
    assert doc["call_types"] == dict(Counter(c.call_type or "none" for c in answered))

    by_number: dict[str, list[datetime]] = {}
    for c in sorted(calls, key=lambda c: c.entered_at):
        if c.caller_number:
            by_number.setdefault(c.caller_number, []).append(c.entered_at)
    repeats = 0
    for c in answered:
        later = [t for t in by_number.get(c.caller_number or "", []) if t > c.entered_at]
        repeats += bool(c.caller_number) and bool(later) and later[0] - c.entered_at <= \
            timedelta(days=7)
    rc = doc["repeat_callers"]
    assert (rc["answered"], rc["repeated"]) == (sum(1 for c in answered if c.caller_number),
                                                repeats)
    t0 = datetime.combine(first, time(), tz)
    t1 = datetime.combine(last + timedelta(days=1), time(), tz)
    def seconds(sp: AgentStateSpan, until: datetime) -> float:
        return max(0.0, (min(sp.ended_at or until, until) - max(sp.started_at, t0))
                   .total_seconds())

    paused: Counter[str] = Counter()
    for sp in spans:
        if sp.state == "paused":
            paused[sp.reason or "no reason"] += seconds(sp, t1)
    assert set(doc["pause_by_reason_s"]) == {r for r, v in paused.items() if v > 0}
    assert all(abs(doc["pause_by_reason_s"][r] - v) < 1e-6 for r, v in paused.items() if v)
    with database.session() as s:  # those were read from the agent time rollups
        assert rollup.settled(s, t0, t1, rollup.AGENT_COVERAGE) is not None

    # the month report's occupancy (``report calls --json``, ``/api/v1/metrics``): handle
    # over staffed time, all agents, and for one queue the agents who answered in it
    until = min(t1, utcnow())
    per_agent: dict[str, Counter[str]] = {}
    for sp in spans:
        per_agent.setdefault(sp.agent, Counter())[sp.state] += seconds(sp, until)
    handlers: dict[str | None, set[str]] = {None: set(), "citywide": set()}
    for c in answered:
        handlers[None].add(str(c.agent))
        if c.queue == "citywide":
            handlers["citywide"].add(str(c.agent))
    query = urlencode({"from": t0.isoformat(), "to": t1.isoformat()})
    for queue, who in handlers.items():
        agents = who | ({a for a, per in per_agent.items() if sum(per.values())}
                        if queue is None else set())
        handle = sum(per_agent.get(a, Counter())[st] for a in agents
                     for st in ("on_call", "wrapup"))
        staffed = handle + sum(per_agent.get(a, Counter())[st] for a in agents
                               for st in ("available", "ringing"))
        got = client.get(f"/api/v1/metrics?{query}" + (f"&queue={queue}" if queue else ""))
        assert got.get_json()["occupancy"] == round(handle / staffed, 4) > 0, queue
        assert got.get_json()["agents_answering"] == len(who) > 0, queue

    weeks = client.get(f"/reports/calls?from={first}&to={last}&by=week&format=csv")
    lines = weeks.get_data(as_text=True).splitlines()
    assert all(date.fromisoformat(line.split(",")[0]).weekday() == 0 for line in lines[2:])
    page = client.get(f"/reports/calls?from={first}&to={last}&by=month")
    assert page.status_code == 200 and 'id="by-hour"' in page.get_data(as_text=True)
    for bad in ("by=decade", "from=2026-02-30", f"from={last}&to={first}", "repeat_days=0",
                "queue=atlantis", "from=1990-01-01&to=2026-01-01"):
        assert client.get(f"/reports/calls?{bad}").status_code == 400, bad
    agent = app.test_client()
    login(agent, users["agent"])
    assert agent.get("/reports/calls").status_code == 403


def test_callbacks_requested_vs_completed_equal_the_stored_requests(  # type: ignore[no-untyped-def]
        settings, database, app, users) -> None:
    """Requests spread over three months, a day either side of the range, in two queues and
    every state: each period's, each queue's and the total counts equal a count over the
    stored rows, in the JSON, the CSV and on the page, with and without a queue."""
    tz = ZoneInfo(settings.timezone)
    first, last = date(2026, 3, 1), date(2026, 4, 30)
    t0 = datetime.combine(first, time(), tz)
    rng = random.Random(7)
    states = ("requested", "originating", "waiting", "calling", "connected", "failed")
    with database.session() as s:
        for i in range(300):  # from a day before the range to a day after it
            at = t0 - timedelta(days=1) + timedelta(minutes=rng.randrange(63 * 24 * 60))
            if i < 4:  # the edges: local midnight of the first day and of the day after
                at = [t0, t0 - timedelta(microseconds=1),
                      datetime.combine(last + timedelta(days=1), time(), tz),
                      datetime.combine(last + timedelta(days=1), time(), tz)
                      - timedelta(seconds=1)][i]
            s.add(CallbackRequest(
                original_uniqueid=f"cb{i}", queue=rng.choice(("citywide", "sanitation")),
                number="6175550100", dial="PJSIP/6175550100@trunk", arrival_at=at,
                created_at=at, state=rng.choice(states), updated_at=at))
        rows = [(r.queue, r.state, r.created_at.astimezone(tz).date())
                for r in s.scalars(sa.select(CallbackRequest))]
    client = app.test_client()
    login(client, users["manager"])

    def want(keep: Callable[[str, date], bool]) -> dict[str, int]:
        mine = [st for q, st, day in rows if first <= day <= last and keep(q, day)]
        return {"requested": len(mine), "completed": mine.count("connected"),
                "failed": mine.count("failed"),
                "pending": sum(st not in ("connected", "failed") for st in mine)}

    doc = client.get(f"/reports/calls?from={first}&to={last}&by=month&format=json").get_json()
    assert [p["callbacks"] for p in doc["periods"]] == [
        want(lambda q, d, m=m: d.month == m) for m in (3, 4)]
    assert doc["callbacks"]["total"] == want(lambda q, d: True)
    assert 250 < doc["callbacks"]["total"]["requested"] < 300
    assert doc["callbacks"]["by_queue"] == {
        q: want(lambda q2, d, q=q: q2 == q) for q in ("citywide", "sanitation")}
    assert doc["callbacks"]["total"]["requested"] == doc["callbacks"]["total"]["completed"] \
        + doc["callbacks"]["total"]["failed"] + doc["callbacks"]["total"]["pending"]
    assert doc["definitions"]["callbacks"]["name"] == "by_request_period"
    # the original calls' queue figures do not change meaning: no call record here at all
    assert doc["total"]["offered"] == 0

    one = client.get(f"/reports/calls?from={first}&to={last}&by=week&queue=sanitation"
                     "&format=json").get_json()
    assert one["callbacks"]["by_queue"] == {"sanitation": want(lambda q, d: q == "sanitation")}
    for p in one["periods"]:
        start = date.fromisoformat(p["start"])
        assert p["callbacks"] == want(lambda q, d, start=start: q == "sanitation" and
                                      start <= d < start + timedelta(days=7)), start

    csv_rows = list(csv.DictReader(io.StringIO(client.get(
        f"/reports/calls?from={first}&to={last}&by=day&format=csv").get_data(as_text=True))))
    assert len(csv_rows) == (last - first).days + 1
    for line in csv_rows:
        day = date.fromisoformat(line["period_start"])
        assert {k: int(line[f"callbacks_{k}"]) for k in ("requested", "completed", "failed",
                                                           "pending")} == \
            want(lambda q, d, day=day: d == day), day
    page = client.get(f"/reports/calls?from={first}&to={last}&by=month").get_data(as_text=True)
    total = want(lambda q, d: True)
    assert 'id="callbacks"' in page and 'id="callbacks-by-queue"' in page
    assert (f'<td>Total</td><td class="num">{total["requested"]}</td>'
            f'<td class="num">{total["completed"]}</td>') in page
