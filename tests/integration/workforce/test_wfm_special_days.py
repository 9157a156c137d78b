"""Stored special days: managed on a page and on the command line, used by the stored plans."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from acd.models import CallRecord
from center.cli import cli
from tests.conftest import csrf_token, login
from tests.integration.workforce.test_wfm_pages import NOW, TZ, seed_calls
from workforce import models, queries
from workforce.history import SpecialDay
from workforce.planning import PlanOptions, plan_queue

STORM = date(2024, 4, 8)  # a Monday in the history


def stored(database) -> list[tuple[str, str, str, float, str]]:
    with database.session() as s:
        return [(r.day.isoformat(), r.queue, r.kind, r.factor, r.note)
                for r in queries.special_day_rows(s)]


def test_manager_adds_and_removes_special_days(app, users, database):
    client = app.test_client()
    login(client, users["manager"])
    token = csrf_token(client, "/wfm/special-days")

    def post(**form):
        return client.post("/wfm/special-days", data={"csrf_token": token, **form},
                           follow_redirects=True)

    page = post(day="2024-07-04", queue="", kind="override", factor="0", note="Independence Day",
                action="save").get_data(as_text=True)
    assert "Saved 2024-07-04 (override) for every queue." in page
    assert "Thu 2024-07-04" in page and "Independence Day" in page
    post(day="2024-01-09", queue="sanitation", kind="exclude", note="ice storm", action="save")
    assert stored(database) == [("2024-01-09", "sanitation", "exclude", 1.0, "ice storm"),
                                ("2024-07-04", "", "override", 0.0, "Independence Day")]
    for bad, message in ((dict(day="07/04/2024"), "not an ISO date"),
                         (dict(day="2024-07-05", kind="holiday"), "kind must be"),
                         (dict(day="2024-07-05", factor="-2", kind="override"), "factor must"),
                         (dict(day="2024-07-05", queue="nowhere"), "Unknown queue")):
        page = post(**{"queue": "", "action": "save", **bad}).get_data(as_text=True)
        assert message in page, bad
    assert len(stored(database)) == 2  # nothing changed
    page = post(day="2024-01-09", queue="sanitation", action="remove").get_data(as_text=True)
    assert "Removed 2024-01-09 for sanitation." in page and "ice storm" not in page
    assert "No special day" in post(day="2024-01-09", queue="", action="remove").get_data(
        as_text=True)
    assert len(stored(database)) == 1
    # no CSRF token, no change; and only managers and admins
    assert client.post("/wfm/special-days", data={"day": "2024-12-25"}).status_code == 400
    agent = app.test_client()
    login(agent, users["agent"])
    assert agent.get("/wfm/special-days").status_code == 403
    assert len(stored(database)) == 1


def test_stored_special_days_shape_the_plan(database, settings):
    seed_calls(database)
    with database.session() as s:  # a storm Monday: five times the calls
        storm_calls = s.scalars(sa.select(CallRecord).where(
            CallRecord.entered_at >= datetime(2024, 4, 8, tzinfo=TZ),
            CallRecord.entered_at < datetime(2024, 4, 9, tzinfo=TZ))).all()
        extra = [{"uniqueid": f"storm{n}-{k}", "queue": c.queue, "entered_at": c.entered_at,
                  "outcome": "answered", "talk_s": 170.0, "source": "test"}
                 for n, c in enumerate(storm_calls) for k in range(4)]
        s.execute(sa.insert(CallRecord), extra)
    options = PlanOptions(interval_minutes=60, history_weeks=2, horizon_days=7)

    def monday_and_wednesday(fid):
        with database.session() as s:
            f = s.get(models.WfmForecast, fid)
            by_day: dict[date, list[float]] = {}
            for i in f.intervals:
                by_day.setdefault(i.interval_start.astimezone(TZ).date(), []).append(
                    (i.calls, i.agents))
        monday, wednesday = by_day[date(2024, 4, 15)], by_day[date(2024, 4, 17)]
        return (sum(c for c, _ in monday), sum(c for c, _ in wednesday),
                max(a for _, a in wednesday))

    plain = monday_and_wednesday(plan_queue(settings, database, "citywide", NOW, options))
    with database.session() as s:
        queries.put_special_days(s, [SpecialDay(STORM, "exclude", note="storm")], "citywide")
        queries.put_special_days(s, [SpecialDay(date(2024, 4, 17), "override", 0.0, "closed")])
        queries.put_special_days(s, [SpecialDay(date(2024, 4, 1), "exclude")], "sanitation")
    special = monday_and_wednesday(plan_queue(settings, database, "citywide", NOW, options))
    assert plain[0] > 2 * special[0]  # the storm no longer inflates the next Monday
    assert special[0] == pytest.approx(1.5 * 8 * (8 + 2 * 1.3), rel=0.2)  # a usual Monday
    assert plain[1] > 0 and plain[2] > 0
    assert special[1] == 0 and special[2] == 0  # closed Wednesday: no calls, no agents


def test_special_days_on_the_command_line(database, tmp_path: Path):
    def run(*args: str):
        return CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), "--database-url",
                                        database.url, "wfm", "special-days", *args])

    csv_path = tmp_path / "days.csv"
    csv_path.write_text("date,kind,factor,note\n2024-11-28,override,0.2,Thanksgiving\n"
                        "2024-02-13,exclude,,snowstorm\n")
    res = run("import", str(csv_path), "--queue", "sanitation")
    assert res.exit_code == 0 and "2 special day(s) stored for sanitation" in res.output
    res = run("list")
    assert res.output.splitlines() == ["date,queue,kind,factor,note",
                                       "2024-02-13,sanitation,exclude,1,snowstorm",
                                       "2024-11-28,sanitation,override,0.2,Thanksgiving"]
    bad = tmp_path / "bad.csv"
    bad.write_text("date,kind,factor\n2024-12-25,override,0\n2024-12-26,override,-1\n")
    res = run("import", str(bad))
    assert res.exit_code == 1 and "line 3" in res.output and "factor" in res.output
    res = run("import", str(csv_path), "--queue", "nowhere")
    assert res.exit_code == 1 and "unknown queue" in res.output
    assert len(stored(database)) == 2  # neither bad import changed anything
    assert run("remove", "2024-02-13", "--queue", "sanitation").exit_code == 0
    res = run("remove", "2024-02-13", "--queue", "sanitation")
    assert res.exit_code == 1 and "no special day" in res.output
    assert [d for d, *_ in stored(database)] == ["2024-11-28"]


def test_migration_matches_the_models(database):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from foundation.db import Base

    with database.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    wfm = [d for d in diffs if "wfm_" in repr(d)]
    assert wfm == []


def test_plan_command_stores_forecast_staffing_and_schedule(database, settings, tmp_path: Path):
    from datetime import datetime as dt

    seed_calls(database, weeks=3, until=dt.now(TZ))
    shifts = tmp_path / "shifts.yaml"
    shifts.write_text("shifts:\n  - name: day\n    length_minutes: 480\n"
                      "    starts: {from: '08:00', to: '10:00', every: 60}\n"
                      "  - name: half\n    length_minutes: 240\n"
                      "    starts: {from: '08:00', to: '14:00', every: 60}\n")
    res = CliRunner().invoke(cli, [
        "--data-dir", str(tmp_path / "data"), "--database-url", database.url, "wfm", "plan",
        "--queue", "citywide", "--queue", "noise", "--interval-minutes", "60",
        "--history-weeks", "3", "--horizon-days", "3", "--shifts", str(shifts)])
    assert res.exit_code == 0, res.output
    assert "noise: no call history yet" in res.output
    fid = int(res.output.split("citywide: forecast ")[1].split()[0])
    with database.session() as s:
        f = s.get(models.WfmForecast, fid)
        sched = queries.latest_schedule(s, fid)
        assert f is not None and sched is not None and sched.status == "Optimal"
        assert len(f.intervals) == 3 * 24 and max(i.agents for i in f.intervals) >= 2
        assert f.targets.startswith("80% in")
        need = {i.interval_start: i.scheduled for i in f.intervals}
        assert all(c.scheduled >= need[c.interval_start] - 1e-9 for c in sched.coverage
                   if 8 <= c.interval_start.astimezone(TZ).hour < 18)


def test_demo_seed_adds_federal_holidays_once(database, settings):
    from workforce.holidays import us_federal_holidays
    from workforce.seed import holidays

    july = {name: d for d, name in us_federal_holidays(datetime.now(TZ).year)}["Independence Day"]
    with database.session() as s:  # the manager's own entry for that day stays as it is
        queries.put_special_days(s, [SpecialDay(july, "override", 0.3, "fireworks")])
        first = holidays(s, settings)
    with database.session() as s:
        again = holidays(s, settings)
    assert first == ["workforce: 21 federal holiday(s) added as special days"]
    assert again == ["workforce: 0 federal holiday(s) added as special days"]
    rows = stored(database)
    assert len(rows) == 22 and ("override", 0.3, "fireworks") in [r[2:] for r in rows]
    assert all(q == "" for _, q, *_ in rows)
