"""CSV in and out for the wfm commands and the CSV exports of the manager pages."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from datetime import datetime
from typing import IO

from workforce.history import HistoryError, Interval, read_csv
from workforce.schedule import Schedule, Shift
from workforce.simulate import IntervalRisk
from workforce.staffing import Staffing

STAFF_COLUMNS = ["agents", "scheduled", "service_level", "asa_s", "occupancy"]


def read_history(fh: IO[str]) -> list[Interval]:
    """History rows ``interval_start,calls[,aht_s]``."""
    return read_csv(fh)


def read_rows(fh: IO[str]) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a forecast CSV (needs interval_start and calls)."""
    reader = csv.DictReader(fh)
    header = list(reader.fieldnames or [])
    if not {"interval_start", "calls"} <= set(header):
        raise HistoryError("CSV needs a header with interval_start,calls")
    return header, list(reader)


def number(row: dict[str, str], column: str, default: float | None = None) -> float:
    """A finite number >= 0 from a CSV cell; blank or missing cells give ``default``."""
    raw = (row.get(column) or "").strip()
    if not raw:
        if default is None:
            raise HistoryError(f"{row.get('interval_start')}: {column} is missing")
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise HistoryError(f"{row.get('interval_start')}: {column} is not a number") from exc
    if not math.isfinite(value) or value < 0:
        raise HistoryError(f"{row.get('interval_start')}: {column} must be a number >= 0")
    return value


def fmt(value: float, digits: int) -> str:
    return "inf" if math.isinf(value) else f"{value:.{digits}f}"


def forecast_csv(rows: Sequence[tuple[datetime, float, float | None]], with_aht: bool) -> str:
    """``interval_start,calls[,aht_s]`` with ISO 8601 timestamps."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(["interval_start", "calls", *(["aht_s"] if with_aht else [])])
    for start, calls, aht in rows:
        extra = [fmt(aht, 1) if aht is not None else ""] if with_aht else []
        out.writerow([start.isoformat(), fmt(calls, 2), *extra])
    return buf.getvalue()


def write_staffing(fh: IO[str], header: list[str], rows: list[dict[str, str]],
                   result: Sequence[Staffing], with_abandon: bool) -> None:
    """The input columns, then agents,scheduled,service_level,asa_s,occupancy[,p_abandon]."""
    added = STAFF_COLUMNS + (["p_abandon"] if with_abandon else [])
    columns = [h for h in header if h not in added] + added
    out = csv.DictWriter(fh, columns, lineterminator="\n", extrasaction="ignore")
    out.writeheader()
    for row, r in zip(rows, result, strict=True):
        values = {"agents": r.agents, "scheduled": r.scheduled,
                  "service_level": fmt(r.service_level, 6), "asa_s": fmt(r.asa_s, 2),
                  "occupancy": fmt(r.occupancy, 4)}
        if with_abandon:
            values["p_abandon"] = fmt(r.p_abandon or 0.0, 6)
        out.writerow({**row, **values})


def parse_start(row: dict[str, str]) -> datetime:
    """The row's interval_start as an aware datetime (naive = UTC)."""
    from workforce.history import parse_time

    return parse_time(row.get("interval_start") or "", "interval_start")


def risk_csv(starts: Sequence[str], risks: Sequence[IntervalRisk]) -> str:
    """Per interval: mean offered, SL mean/p10/p90, abandon mean/p90, share of runs missing."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(["interval_start", "offered_mean", "sl_mean", "sl_p10", "sl_p90",
                  "abandon_mean", "abandon_p90", "p_miss"])
    for start, r in zip(starts, risks, strict=True):
        out.writerow([start, fmt(r.offered_mean, 2), fmt(r.sl_mean, 4), fmt(r.sl_p10, 4),
                      fmt(r.sl_p90, 4), fmt(r.abandon_mean, 4), fmt(r.abandon_p90, 4),
                      "" if math.isnan(r.p_miss) else fmt(r.p_miss, 3)])
    return buf.getvalue()


def shifts_csv(shifts: Sequence[Shift]) -> str:
    """One row per chosen shift: template,start,end,breaks,agents,paid_hours."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(["template", "start", "end", "breaks", "agents", "paid_hours"])
    for s in shifts:
        breaks = ";".join(f"{a.strftime('%H:%M')}-{b.strftime('%H:%M')}" for a, b in s.breaks)
        out.writerow([s.template, s.start.isoformat(), s.end.isoformat(), breaks, s.agents,
                      f"{s.paid_hours:g}"])
    return buf.getvalue()


def coverage_csv(schedule: Schedule) -> str:
    """Per interval: required, scheduled and the difference (negative = understaffed)."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(["interval_start", "required", "scheduled", "over_under"])
    for start, need, have, gap in zip(schedule.interval_starts, schedule.required,
                                      schedule.scheduled, schedule.gaps(), strict=True):
        out.writerow([start.isoformat(), f"{need:g}", f"{have:.2f}", f"{gap:+.2f}"])
    return buf.getvalue()
