"""``civic311 wfm``: forecast, backtest, staff, simulate and schedule from CSV files."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
import numpy as np
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from foundation.cli import Context, pass_ctx
from workforce import files
from workforce.erlang import Targets
from workforce.forecast import Accuracy, make_forecast
from workforce.history import History, HistoryError, Interval, SpecialDay, build, read_special_days
from workforce.methods import METHODS
from workforce.staffing import staff as staff_intervals
from workforce.staffing import target_share

INTERVAL = click.option("--interval-minutes", type=click.IntRange(1, 1440), required=True,
                        help="Interval length in minutes (15, 30, 60).")


@click.group()
def wfm() -> None:
    """Workforce management: forecasts, staffing, simulation, schedules."""


def _zone(name: str | None, rows: list[Interval], default: str) -> tzinfo:
    """The zone whose wall clock defines days and slots: named, else the rows' one offset."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise click.BadParameter(f"unknown time zone {name!r}") from exc
    offsets = {r.start.utcoffset() for r in rows}
    if len(offsets) == 1:
        (offset,) = offsets
        return timezone(offset) if offset else timezone.utc  # noqa: UP017
    return ZoneInfo(default)


def _history(c: Context, path: str, minutes: int, zone: str | None,
             special: list[SpecialDay]) -> tuple[History, bool]:
    try:
        with open(path, newline="") as fh:
            rows = files.read_history(fh)
        return build(rows, minutes, _zone(zone, rows, c.settings.timezone), special), any(
            r.handled for r in rows)
    except HistoryError as exc:
        raise click.ClickException(f"{path}: {exc}") from exc


def _special(path: str | None) -> list[SpecialDay]:
    if not path:
        return []
    try:
        with open(path, newline="") as fh:
            return read_special_days(fh)
    except HistoryError as exc:
        raise click.ClickException(f"{path}: {exc}") from exc


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar on stderr (a terminal only) fed by the backtest's (method, done, total)."""
    columns = (TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TimeRemainingColumn())
    console = Console(stderr=True)
    with Progress(*columns, console=console, transient=True,
                  disable=not console.is_terminal) as bar:
        task = bar.add_task("backtest", total=None)

        def update(method: str, done: int, total: int) -> None:
            bar.update(task, description=f"backtest {method}", completed=done, total=total)

        yield update


def _accuracy_table(accuracy: list[Accuracy], chosen: str | None) -> None:
    table = Table(title="Backtest on held-out weeks: interval WAPE and bias")
    for col in ("method", "WAPE", "bias", "intervals", "chosen"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for a in sorted(accuracy, key=lambda a: (math.isnan(a.wape), a.wape)):
        if math.isnan(a.wape):
            table.add_row(a.method, "failed" if not a.intervals else "–", "", str(a.intervals), "")
            continue
        table.add_row(a.method, f"{a.wape:.2%}", f"{a.bias:+.2%}", str(a.intervals),
                      "yes" if a.method == chosen else "")
    Console(width=100).print(table)


SOURCE = click.option("--history", "history_path", required=True,
                      type=click.Path(exists=True, dir_okay=False),
                      help="CSV interval_start,calls[,aht_s] (ISO 8601 timestamps).")
ZONE = click.option("--timezone", "zone", default=None,
                    help="Zone for days and slots (default: the history's own UTC offset).")
SPECIAL = click.option("--special-days", type=click.Path(exists=True, dir_okay=False),
                       help="CSV date,kind[,factor][,note]; kind exclude|override.")


@wfm.command()
@SOURCE
@INTERVAL
@click.option("--horizon-days", type=click.IntRange(1, 366), required=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--method", type=click.Choice(["auto", *METHODS]), default="auto", show_default=True)
@click.option("--backtest-weeks", type=click.IntRange(1, 12), default=4, show_default=True)
@click.option("--origins", type=click.IntRange(1, 20), default=3, show_default=True,
              help="Backtest cut points, one week apart.")
@ZONE
@SPECIAL
@pass_ctx
def forecast(c: Context, history_path: str, interval_minutes: int, horizon_days: int, out: str,
             method: str, backtest_weeks: int, origins: int, zone: str | None,
             special_days: str | None) -> None:
    """Forecast calls per interval; the method is chosen by backtest unless given."""
    special = _special(special_days)
    hist, has_aht = _history(c, history_path, interval_minutes, zone, special)
    with _progress() as progress:
        fc = make_forecast(hist, horizon_days, method, special, origins, backtest_weeks,
                           progress=progress)
    rows = fc.rows()
    Path(out).write_text(files.forecast_csv(rows, with_aht=has_aht))
    if fc.accuracy:
        _accuracy_table(fc.accuracy, fc.method)
    chosen = fc.chosen_accuracy()
    detail = f" (backtest WAPE {chosen.wape:.2%}, bias {chosen.bias:+.2%})" if chosen else ""
    if not fc.accuracy:
        detail = " (history under three weeks: too short to backtest, no accuracy report)"
    click.echo(f"method {fc.method}{detail}; {len(rows)} intervals written to {out}")
    if hist.gaps or hist.excluded:
        click.echo(f"history: {len(hist.gaps)} gap day(s), {len(hist.excluded)} special day(s) "
                   "left out of training")


@wfm.command()
@SOURCE
@INTERVAL
@click.option("--weeks", type=click.IntRange(1, 12), default=4, show_default=True,
              help="How far ahead each backtest forecasts.")
@click.option("--origins", type=click.IntRange(1, 52), default=6, show_default=True)
@ZONE
@SPECIAL
@pass_ctx
def backtest(c: Context, history_path: str, interval_minutes: int, weeks: int, origins: int,
             zone: str | None, special_days: str | None) -> None:
    """Accuracy of every method on held-out weeks (rolling origin), best first."""
    from workforce.forecast import backtest as run_backtest
    from workforce.forecast import choose

    hist, _ = _history(c, history_path, interval_minutes, zone, _special(special_days))
    with _progress() as progress:
        try:
            acc = run_backtest(hist, METHODS, weeks, origins, progress=progress)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    _accuracy_table(acc, choose(acc))


@wfm.command()
@click.option("--forecast", "forecast_path", required=True,
              type=click.Path(exists=True, dir_okay=False),
              help="CSV interval_start,calls[,aht_s]; an aht_s column overrides --aht-s.")
@INTERVAL
@click.option("--aht-s", type=click.FloatRange(min=0, min_open=True), required=True)
@click.option("--target-sl", type=float, required=True, help="Share (0.8) or percent (80).")
@click.option("--answer-s", type=click.FloatRange(min=0), required=True,
              help="Service-level threshold in seconds.")
@click.option("--patience-s", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Mean caller patience: Erlang A (SL over offered calls).")
@click.option("--shrinkage", default="0", show_default=True, help="Share of paid time off-phone.")
@click.option("--max-occupancy", default=None, help="Occupancy cap, e.g. 0.85.")
@click.option("--max-asa-s", type=float, default=None, help="ASA ceiling in seconds.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True))
def staff(forecast_path: str, interval_minutes: int, aht_s: float, target_sl: float,
          answer_s: float, patience_s: float | None, shrinkage: str, max_occupancy: str | None,
          max_asa_s: float | None, out: str) -> None:
    """Agents per interval for a service-level target (Erlang C, or Erlang A with patience)."""
    try:
        targets = Targets(target_share(target_sl), answer_s, max_asa_s, max_occupancy)
        with open(forecast_path, newline="") as fh:
            header, rows = files.read_rows(fh)
        calls = [files.number(r, "calls") for r in rows]
        ahts = [files.number(r, "aht_s", aht_s) for r in rows]
        result = staff_intervals(calls, ahts, interval_minutes, targets, patience_s, shrinkage)
    except (ValueError, HistoryError) as exc:
        raise click.ClickException(str(exc)) from exc
    buf = io.StringIO()
    files.write_staffing(buf, header, rows, result, with_abandon=patience_s is not None)
    Path(out).write_text(buf.getvalue())
    peak = max((r.agents for r in result), default=0)
    hours = sum(r.scheduled for r in result) * interval_minutes / 60
    click.echo(f"{len(result)} intervals; peak {peak} agents; {hours:g} scheduled agent-hours; "
               f"written to {out}")


@wfm.command()
@click.option("--calls", type=click.FloatRange(min=0), required=True,
              help="Calls arriving in the busiest interval.")
@INTERVAL
@click.option("--hold-s", type=click.FloatRange(min=0, min_open=True), required=True,
              help="Mean seconds a call holds a trunk: IVR + queue wait + talk.")
@click.option("--blocking", type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
              default=0.01, show_default=True, help="Share of calls allowed a busy signal.")
def trunks(calls: float, interval_minutes: int, hold_s: float, blocking: float) -> None:
    """Trunks (lines, SIP channels) for a blocking target: Erlang B."""
    from workforce.erlang import erlang_b, offered_load, trunks_for_blocking

    load = offered_load(calls, hold_s, interval_minutes * 60.0)
    if load == 0:
        click.echo("no calls offered: no trunks needed")
        return
    n = trunks_for_blocking(load, blocking)
    click.echo(f"{load:g} Erlangs offered: {n} trunks block {erlang_b(n, load):.4%} of calls "
               f"(target {blocking:.2%}); {n - 1} would block {erlang_b(max(n - 1, 0), load):.4%}")


@wfm.command()
@click.option("--plan", "plan_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="CSV from 'wfm staff' (interval_start,calls,agents[,aht_s]); an aht_s "
                   "column overrides --aht-s.")
@INTERVAL
@click.option("--aht-s", type=click.FloatRange(min=0, min_open=True), required=True)
@click.option("--answer-s", type=click.FloatRange(min=0), required=True)
@click.option("--patience-s", type=click.FloatRange(min=0, min_open=True), default=None)
@click.option("--target-sl", type=float, default=None, help="Share (0.8) or percent (80).")
@click.option("--reps", type=click.IntRange(1, 10000), default=50, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True))
def simulate(plan_path: str, interval_minutes: int, aht_s: float, answer_s: float,
             patience_s: float | None, target_sl: float | None, reps: int, seed: int,
             out: str) -> None:
    """Simulate a staffing plan: spread of service level and abandonment per interval."""
    from workforce.simulate import simulate_plan

    try:
        with open(plan_path, newline="") as fh:
            header, rows = files.read_rows(fh)
        calls = [files.number(r, "calls") for r in rows]
        agents = [int(files.number(r, "agents")) for r in rows]
        ahts = [files.number(r, "aht_s", aht_s) for r in rows]
        target = target_share(target_sl) if target_sl is not None else None
        result = simulate_plan(calls, agents, ahts, patience_s, interval_minutes, answer_s,
                               target, reps, seed)
    except (ValueError, HistoryError) as exc:
        raise click.ClickException(str(exc)) from exc
    Path(out).write_text(files.risk_csv([r["interval_start"] for r in rows], result.intervals))
    sl = result.overall_sl()
    click.echo(f"{reps} runs of {len(rows)} intervals: plan service level mean {sl.mean():.2%}, "
               f"10th percentile {float(np.quantile(sl, 0.1)):.2%}; written to {out}")


@wfm.command()
@click.option("--requirement", "req_path", required=True,
              type=click.Path(exists=True, dir_okay=False),
              help="CSV from 'wfm staff' (interval_start and the --column to cover).")
@click.option("--shifts", "shifts_path", required=True,
              type=click.Path(exists=True, dir_okay=False), help="YAML or JSON shift templates.")
@INTERVAL
@click.option("--column", default="scheduled", show_default=True,
              help="Requirement column to cover (scheduled heads, or agents).")
@click.option("--time-limit-s", type=click.IntRange(1, 3600), default=60, show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Shifts CSV; coverage per interval goes to OUT with .coverage.csv.")
@ZONE
@pass_ctx
def schedule(c: Context, req_path: str, shifts_path: str, interval_minutes: int, column: str,
             time_limit_s: int, out: str, zone: str | None) -> None:
    """Shifts covering the requirement per interval with the fewest paid hours."""
    import yaml

    from workforce.schedule import TemplateError, optimize, templates_from_data

    try:
        with open(req_path, newline="") as fh:
            _, rows = files.read_rows(fh)
        starts = [files.parse_start(r) for r in rows]
        need = [files.number(r, column) for r in rows]
        with open(shifts_path) as fh:
            templates = templates_from_data(yaml.safe_load(fh))
    except (ValueError, HistoryError, TemplateError, yaml.YAMLError) as exc:
        raise click.ClickException(str(exc)) from exc
    tz = _zone(zone, [Interval(s, 0.0) for s in starts], c.settings.timezone)
    result = optimize(starts, need, interval_minutes, templates, tz, time_limit_s)
    Path(out).write_text(files.shifts_csv(result.shifts))
    coverage = str(Path(out).with_suffix("")) + ".coverage.csv"
    Path(coverage).write_text(files.coverage_csv(result))
    gaps = result.gaps()
    click.echo(f"{result.status}: {sum(s.agents for s in result.shifts)} shifts, "
               f"{result.paid_hours:g} paid hours; understaffed "
               f"{sum(1 for g in gaps if g < -1e-9)} / overstaffed "
               f"{sum(1 for g in gaps if g > 1e-9)} of {len(gaps)} intervals; "
               f"written to {out} and {coverage}")
    for note in result.notes:
        click.echo(f"note: {note}")


@wfm.command()
@click.option("--queue", "queues", multiple=True, help="Queue to plan (default: every queue).")
@INTERVAL
@click.option("--history-weeks", type=click.IntRange(2, 104), default=8, show_default=True)
@click.option("--horizon-days", type=click.IntRange(1, 366), default=14, show_default=True)
@click.option("--target-sl", type=float, default=0.8, show_default=True)
@click.option("--answer-s", type=float, default=None, help="Default: the queue's threshold.")
@click.option("--aht-s", type=float, default=180.0, show_default=True,
              help="AHT when the history has no handle time.")
@click.option("--patience-s", type=float, default=None)
@click.option("--shrinkage", default="0.3", show_default=True)
@click.option("--max-occupancy", default="0.9", show_default=True)
@click.option("--shifts", "shifts_path", type=click.Path(exists=True, dir_okay=False),
              help="Shift templates (YAML): also build and store a schedule.")
@pass_ctx
def plan(c: Context, queues: tuple[str, ...], interval_minutes: int, history_weeks: int,
         horizon_days: int, target_sl: float, answer_s: float | None, aht_s: float,
         patience_s: float | None, shrinkage: str, max_occupancy: str,
         shifts_path: str | None) -> None:
    """Forecast, staff (and schedule) queues from their call records; stored for the pages."""
    import yaml

    from foundation.db import utcnow
    from workforce.planning import PlanOptions, plan_queue
    from workforce.schedule import TemplateError, templates_from_data

    templates = None
    if shifts_path:
        try:
            with open(shifts_path) as fh:
                templates = templates_from_data(yaml.safe_load(fh))
        except (TemplateError, yaml.YAMLError) as exc:
            raise click.ClickException(f"{shifts_path}: {exc}") from exc
    try:
        options = PlanOptions(interval_minutes, history_weeks, horizon_days,
                              target_share(target_sl), answer_s, aht_s, patience_s, shrinkage,
                              max_occupancy)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    for queue in queues or tuple(c.settings.queue_names()):
        fid = plan_queue(c.settings, c.db, queue, utcnow(), options, templates)
        click.echo(f"{queue}: " + (f"forecast {fid} stored" if fid else "no call history yet"))


@wfm.group("special-days")
def special_days_group() -> None:
    """Holidays, storms, deadlines: kept out of training (exclude) or scaling a forecast
    (override, by the CSV's factor); used by 'wfm plan' and the worker's daily forecasts."""


@special_days_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--queue", default="", help="Only this queue (default: every queue).")
@pass_ctx
def special_days_import(c: Context, path: str, queue: str) -> None:
    """Add or replace special days from a CSV date,kind[,factor][,note]."""
    from workforce import queries

    _known_queue(c, queue)
    days = _special(path)
    with c.db.session() as s:
        n = queries.put_special_days(s, days, queue)
    click.echo(f"{n} special day(s) stored for {queue or 'every queue'}")


@special_days_group.command("list")
@pass_ctx
def special_days_list(c: Context) -> None:
    """Every stored special day: date,queue,kind,factor,note (CSV)."""
    from workforce import queries

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", "queue", "kind", "factor", "note"])
    with c.db.session() as s:
        for r in queries.special_day_rows(s):
            writer.writerow([r.day.isoformat(), r.queue, r.kind, f"{r.factor:g}", r.note])
    click.echo(out.getvalue(), nl=False)


@special_days_group.command("remove")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--queue", default="", help="The queue it was stored for (default: every queue).")
@pass_ctx
def special_days_remove(c: Context, day: datetime, queue: str) -> None:
    """Forget one special day."""
    from workforce import queries

    with c.db.session() as s:
        if not queries.remove_special_day(s, day.date(), queue):
            raise click.ClickException(f"no special day {day.date()} for "
                                       f"{queue or 'every queue'}")
    click.echo(f"removed {day.date()} for {queue or 'every queue'}")


def _known_queue(c: Context, queue: str) -> None:
    if queue and queue not in c.settings.queue_names():
        raise click.ClickException(f"unknown queue {queue!r}; queues: "
                                   + ", ".join(c.settings.queue_names()))
