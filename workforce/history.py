"""Interval history: offered calls and handle time on a grid of open days × time-of-day slots.

Rows come from CSV (``interval_start,calls[,aht_s]``) or from the call records. Days are local
calendar days in the city's zone; a weekday is *open* if it ever has data, and so is a
(weekday, slot) pair. Gaps (an open day or slot with no data) and special days (holidays,
storms) are NaN in the grid: never mistaken for zero calls, never trained on.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import IO

import numpy as np

ANSWERED = "answered"


class HistoryError(ValueError):
    """The interval history cannot be read or used as given."""


@dataclass(frozen=True)
class Interval:
    """One observed interval: start (aware), offered calls, handled calls and handle seconds."""

    start: datetime
    calls: float
    handled: float = 0.0
    handle_s: float = 0.0


@dataclass(frozen=True)
class SpecialDay:
    """A day kept out of training; an override also scales its forecast by ``factor``."""

    day: date
    kind: str = "exclude"  # exclude | override
    factor: float = 1.0
    note: str = ""


@dataclass
class History:
    """Grid of open days (rows) × slots (columns); NaN marks gaps and special days."""

    interval_minutes: int
    tz: tzinfo
    days: list[date]
    slots: list[time]
    calls: np.ndarray
    handled: np.ndarray
    handle_s: np.ndarray
    open_mask: np.ndarray  # (7, slots): weekday × slot open
    gaps: list[date] = field(default_factory=list)
    excluded: list[date] = field(default_factory=list)

    @property
    def weekdays(self) -> list[int]:
        return sorted({d.weekday() for d in self.days})

    @property
    def season(self) -> int:
        """Open days per week: rows this far apart are the same weekday."""
        return len(self.weekdays)

    def row_weekdays(self) -> np.ndarray:
        return np.array([d.weekday() for d in self.days])

    def cut(self, rows: int) -> History:
        """The first ``rows`` days only (a training window for backtests)."""
        return History(self.interval_minutes, self.tz, self.days[:rows], self.slots,
                       self.calls[:rows], self.handled[:rows], self.handle_s[:rows],
                       self.open_mask, self.gaps, self.excluded)


def parse_time(raw: str, where: str) -> datetime:
    """ISO 8601 timestamp; a naive one is taken as UTC (the project's CLI convention)."""
    try:
        dt = datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        raise HistoryError(f"{where}: not an ISO 8601 timestamp: {raw!r}") from exc
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def read_csv(fh: IO[str]) -> list[Interval]:
    """Rows of ``interval_start,calls[,aht_s]``; aht_s (seconds) may be blank."""
    reader = csv.DictReader(fh)
    if not reader.fieldnames or not {"interval_start", "calls"} <= set(reader.fieldnames):
        raise HistoryError("CSV needs a header with interval_start,calls[,aht_s]")
    out = []
    for line, row in enumerate(reader, start=2):
        start = parse_time(row["interval_start"] or "", f"line {line}")
        try:
            calls = float(row["calls"])
            aht = row.get("aht_s") or ""
            aht_s = float(aht) if aht.strip() else math.nan
        except ValueError as exc:
            raise HistoryError(f"line {line}: calls/aht_s must be numbers") from exc
        if not math.isfinite(calls) or calls < 0:
            raise HistoryError(f"line {line}: calls must be a number >= 0")
        if aht.strip() and not (math.isfinite(aht_s) and aht_s > 0):
            raise HistoryError(f"line {line}: aht_s must be a number of seconds > 0 (or blank)")
        if math.isfinite(aht_s) and calls > 0:
            out.append(Interval(start, calls, calls, calls * aht_s))
        else:
            out.append(Interval(start, calls))
    if not out:
        raise HistoryError("the history has no rows")
    return out


def from_call_records(
        records: Iterable[tuple[datetime, str | None, float | None, float, float | None]],
        interval_minutes: int, start: datetime, end: datetime) -> list[Interval]:
    """Offered calls and handle time per interval from (entered_at, outcome, talk_s, acw_s,
    hold_s) tuples; every interval in [start, end) gets a row, zero-call ones included."""
    step = timedelta(minutes=interval_minutes)
    first = floor_time(start, interval_minutes).astimezone(UTC)  # UTC: no wall-clock DST jumps
    n = max(0, math.ceil((end - first) / step))
    calls, handled, handle = np.zeros(n), np.zeros(n), np.zeros(n)
    for entered_at, outcome, talk_s, acw_s, _hold_s in records:
        i = int((entered_at - first) // step)
        if 0 <= i < n:
            calls[i] += 1
            if outcome == ANSWERED and talk_s is not None:
                handled[i] += 1
                handle[i] += talk_s + (acw_s or 0.0)  # talk includes any hold
    return [Interval(first + i * step, float(calls[i]), float(handled[i]), float(handle[i]))
            for i in range(n)]


def floor_time(dt: datetime, minutes: int) -> datetime:
    """Start of the ``minutes``-long interval holding dt (wall clock of dt's own zone)."""
    over = (dt.hour * 60 + dt.minute) % minutes
    return dt.replace(second=0, microsecond=0) - timedelta(minutes=over)


def special_day(day: str, kind: str = "", factor: str = "", note: str = "") -> SpecialDay:
    """A special day from text (ISO date; kind exclude|override, default exclude; factor a
    number >= 0, default 1); HistoryError names what is wrong."""
    try:
        parsed = date.fromisoformat(day.strip())
    except ValueError as exc:
        raise HistoryError(f"not an ISO date (YYYY-MM-DD): {day!r}") from exc
    kind = kind.strip() or "exclude"
    if kind not in ("exclude", "override"):
        raise HistoryError("kind must be exclude or override")
    try:
        value = float(factor) if factor.strip() else 1.0
    except ValueError as exc:
        raise HistoryError(f"factor is not a number: {factor!r}") from exc
    if not (math.isfinite(value) and value >= 0):
        raise HistoryError("factor must be a number >= 0")
    return SpecialDay(parsed, kind, value, note.strip())


def read_special_days(fh: IO[str]) -> list[SpecialDay]:
    """Rows of ``date,kind[,factor][,note]``; kind is exclude or override."""
    out = []
    for line, row in enumerate(csv.DictReader(fh), start=2):
        try:
            out.append(special_day(row.get("date") or "", row.get("kind") or "",
                                   row.get("factor") or "", row.get("note") or ""))
        except HistoryError as exc:
            raise HistoryError(f"special days line {line}: {exc}") from exc
    return out


def build(rows: Iterable[Interval], interval_minutes: int, tz: tzinfo,
          special: Iterable[SpecialDay] = ()) -> History:
    """Aggregate rows to ``interval_minutes`` in zone tz and lay them on the day × slot grid."""
    if interval_minutes <= 0 or (24 * 60) % interval_minutes:
        raise HistoryError("interval minutes must divide a day (e.g. 15, 30, 60)")
    cells: dict[tuple[date, time], list[float]] = {}
    for r in rows:
        local = floor_time(r.start.astimezone(tz), interval_minutes)
        acc = cells.setdefault((local.date(), local.time().replace(tzinfo=None)), [0.0, 0.0, 0.0])
        acc[0] += r.calls
        acc[1] += r.handled
        acc[2] += r.handle_s
    if not cells:
        raise HistoryError("the history has no rows")
    observed = sorted({d for d, _ in cells})
    open_weekdays = {d.weekday() for d in observed}
    slots = sorted({s for _, s in cells})
    days = [observed[0] + timedelta(days=i) for i in range((observed[-1] - observed[0]).days + 1)]
    days = [d for d in days if d.weekday() in open_weekdays]
    row_of = {d: i for i, d in enumerate(days)}
    col_of = {s: j for j, s in enumerate(slots)}
    grid = np.full((3, len(days), len(slots)), np.nan)
    open_mask = np.zeros((7, len(slots)), dtype=bool)
    for (d, s), acc in cells.items():
        grid[:, row_of[d], col_of[s]] = acc
        open_mask[d.weekday(), col_of[s]] = True
    seen = set(observed)
    gaps = [d for d in days if d not in seen]
    excluded = []
    for sd in special:
        if sd.day in row_of:
            grid[:, row_of[sd.day], :] = np.nan
            excluded.append(sd.day)
    return History(interval_minutes, tz, days, slots, grid[0], grid[1], grid[2], open_mask,
                   gaps, sorted(excluded))
