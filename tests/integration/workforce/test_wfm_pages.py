"""Manager pages and the stored plan, on SQLite and PostgreSQL, through a logged-in client."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import sqlalchemy as sa

from acd.models import CallRecord
from center.worker import collect_jobs
from tests.conftest import login
from workforce.jobs import daily_forecasts
from workforce.planning import PlanOptions, plan_queue
from workforce.schedule import ShiftTemplate, every

TZ = ZoneInfo("America/New_York")
NOW = datetime(2024, 4, 15, 12, 0, tzinfo=TZ)  # a Monday, noon
SHIFTS = [ShiftTemplate("day", 480, every(time(8), time(10), 60)),
          ShiftTemplate("half", 240, every(time(8), time(14), 60))]


def seed_calls(db, queue="citywide", weeks=6, until=NOW):
    """Calls 08:00-18:00 every day with a weekly pattern, answered, AHT 200 s (180 s talk,
    10 of it on hold, + 20 s wrap-up)."""
    rng = np.random.default_rng(11)
    start = datetime.combine((until - timedelta(weeks=weeks)).date(), time(0), tzinfo=TZ)
    rows, n = [], 0
    day = start
    while day < until:
        for hour in range(8, 18):
            rate = 8 * (1.5 if day.weekday() == 0 else 1.0) * (1.3 if hour in (10, 11) else 1.0)
            for _ in range(rng.poisson(rate)):
                at = day + timedelta(hours=hour, seconds=float(rng.uniform(0, 3600)))
                if at >= until:
                    continue
                n += 1
                rows.append({"uniqueid": f"u{n}", "queue": queue, "entered_at": at,
                             "outcome": "answered", "wait_s": 5.0, "talk_s": 180.0,
                             "acw_s": 20.0, "hold_s": 10.0, "answered_at": at, "source": "test"})
        day += timedelta(days=1)
    with db.session() as s:
        s.execute(sa.insert(CallRecord), rows)
    return n


OPTIONS = PlanOptions(interval_minutes=60, history_weeks=4, horizon_days=7)


@pytest.fixture
def past_plan(app, database, settings):
    """A plan made a week before NOW: its whole week has happened since."""
    seed_calls(database)
    past = plan_queue(settings, database, "citywide", NOW - timedelta(days=7), OPTIONS, SHIFTS)
    assert past
    return past


@pytest.fixture
def planned(past_plan, database, settings):
    fresh = plan_queue(settings, database, "citywide", NOW, OPTIONS, SHIFTS)
    assert fresh
    return past_plan, fresh


def test_manager_pages_charts_schedule_and_exports(app, users, planned):
    past, fresh = planned
    client = app.test_client()
    login(client, users["manager"])
    page = client.get("/wfm/").get_data(as_text=True)
    assert f'/wfm/forecasts/{past}"' in page and f'/wfm/forecasts/{fresh}"' in page
    assert "actual WAPE" in page
    page = client.get(f"/wfm/forecasts/{past}").get_data(as_text=True)
    assert page.count("<svg") == 2
    assert 'data-label="forecast"' in page and 'data-label="actual"' in page
    assert 'data-label="scheduled"' in page and "paid hours" in page
    assert "<td>day</td>" in page or "<td>half</td>" in page
    assert "So far: 168 interval(s) elapsed" in page  # a whole week of hours
    assert 'data-label="actual" d="M' in page  # the week that followed is drawn

    # accuracy of past forecasts, as CSV
    resp = client.get("/wfm/accuracy.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = {int(r["forecast_id"]): r for r in csv.DictReader(io.StringIO(resp.get_data(
        as_text=True)))}
    assert int(rows[past]["elapsed_intervals"]) == 168
    assert 0 < float(rows[past]["actual_wape"]) < 0.5  # hourly Poisson noise near 10 calls
    index = client.get("/wfm/").get_data(as_text=True)
    assert f"<td>{float(rows[past]['actual_wape']):.1%}</td>" in index  # what the page shows
    assert "Mon 2024-04-08 – Sun 2024-04-14" in index  # the week the past forecast covers

    # one forecast's intervals and its schedule, as CSV
    rows = list(csv.DictReader(io.StringIO(client.get(f"/wfm/forecasts/{past}.csv")
                                           .get_data(as_text=True))))
    busy = [r for r in rows if float(r["calls"]) > 1]
    assert busy and all(int(r["agents"]) >= 1 and r["actual_calls"] != "" for r in busy)
    assert all(float(r["aht_s"]) == pytest.approx(200.0) for r in busy)
    assert all(float(r["over_under"]) >= -1e-9 for r in busy)
    page = client.get(f"/wfm/forecasts/{past}").get_data(as_text=True)
    sched_link = page.split("/wfm/schedules/")[1].split('"')[0]
    shifts = client.get(f"/wfm/schedules/{sched_link}")
    assert shifts.status_code == 200 and b"template,start,end" in shifts.data


def test_only_managers_and_admins(app, users):
    anon = app.test_client()
    assert anon.get("/wfm/").status_code == 302
    for role, code in (("agent", 403), ("supervisor", 403), ("manager", 200), ("admin", 200)):
        client = app.test_client()
        login(client, users[role])
        assert client.get("/wfm/").status_code == code, role
        assert client.get("/wfm/accuracy.csv").status_code == code, role
    client = app.test_client()
    login(client, users["manager"])
    assert "No forecasts yet" in client.get("/wfm/").get_data(as_text=True)
    assert client.get("/wfm/forecasts/99999").status_code == 404
    assert client.get("/wfm/schedules/99999.csv").status_code == 404


def test_daily_job_is_idempotent(database, settings):
    seed_calls(database, weeks=3, until=datetime.now(TZ))
    settings.database_url = database.url
    assert "wfm.daily_forecasts" in {j.id for j in collect_jobs(settings, database)}
    assert daily_forecasts(settings, database) == 1  # only citywide has calls
    assert daily_forecasts(settings, database) == 0


def test_risk_of_a_plan_by_simulation(app, users, past_plan):
    past = past_plan
    client = app.test_client()
    login(client, users["manager"])
    assert f"/wfm/forecasts/{past}/risk" in client.get(f"/wfm/forecasts/{past}").get_data(
        as_text=True)
    page = client.get(f"/wfm/forecasts/{past}/risk?day=2024-04-09&reps=6&patience_s=300"
                      "&target=0.8&answer_s=30").get_data(as_text=True)
    assert "Tue 2024-04-09" in page and "6 simulated days" in page
    assert page.count("<svg") == 2 and 'data-label="10th percentile"' in page
    rows = page.split('<table class="wfm-risk">')[1].split("<tr>")[2:]
    assert len(rows) == 24  # hourly intervals of the day
    assert sum("no calls" in r for r in rows) >= 10  # the night: nothing to answer
    busy = [r for r in rows if "no calls" not in r]
    assert busy and all(r.count("%") == 6 for r in busy)
    mean = float(page.split("averages\n  <b>")[1].split("%")[0])
    assert 80 <= mean <= 100  # staffed to 80 % in 30 s: the simulated day lands near or above
    # bad settings: a clear message, no simulation
    for query in ("reps=1000", "day=2031-01-01", "target=abc", "patience_s=-5"):
        resp = client.get(f"/wfm/forecasts/{past}/risk?{query}", follow_redirects=True)
        assert "Cannot simulate" in resp.get_data(as_text=True), query
    agent = app.test_client()
    login(agent, users["agent"])
    assert agent.get(f"/wfm/forecasts/{past}/risk").status_code == 403
