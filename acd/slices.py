"""The rollups' clock (pure): 15-minute intervals aligned on the UTC hour, and agent state
spans cut at their boundaries, so each interval holds exactly the seconds spent inside it
and a span across a boundary counts on both sides of it, never twice."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

BASE_MINUTES = 15
DAY_MINUTES = 24 * 60  # a day row's ``minutes``: a city day (23 or 25 hours across DST)

# agent, state, reason, started_at, ended_at (None: still in it)
SpanRow = tuple[str, str, str, datetime, datetime | None]
# interval start, agent, state, reason
SliceKey = tuple[datetime, str, str, str]
StateKey = tuple[str, str, str]  # agent, state, reason


def floor(t: datetime, minutes: int = BASE_MINUTES) -> datetime:
    """The start of the ``minutes``-long interval holding ``t`` (aligned on the UTC hour)."""
    seconds = minutes * 60
    epoch = int(t.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def ceil(t: datetime, minutes: int = BASE_MINUTES) -> datetime:
    """The first ``minutes``-aligned boundary at or after ``t``."""
    down = floor(t, minutes)
    return down if down == t else down + timedelta(minutes=minutes)


def midnight(day: date, zone: str) -> datetime:
    """The UTC instant a city day starts (as ``range_report.Range.bounds``); a 15-minute
    interval never straddles one (zone offsets are whole quarter hours)."""
    return datetime.combine(day, time(), ZoneInfo(zone)).astimezone(UTC)


def day_floor(t: datetime, zone: str) -> datetime:
    """The start of the city day holding ``t``."""
    return midnight(t.astimezone(ZoneInfo(zone)).date(), zone)


def day_ceil(t: datetime, zone: str) -> datetime:
    """The first city midnight at or after ``t``."""
    down = day_floor(t, zone)
    return down if down == t else next_day(down, zone)


def next_day(t: datetime, zone: str) -> datetime:
    """The midnight after the city day holding ``t``."""
    return midnight(t.astimezone(ZoneInfo(zone)).date() + timedelta(days=1), zone)


def split(spans: Iterable[SpanRow], start: datetime, end: datetime,
          minutes: int = BASE_MINUTES) -> dict[SliceKey, float]:
    """(interval start, agent, state, reason) -> seconds of the spans within [start, end),
    cut at every ``minutes`` boundary; an open span runs to ``end``. Empty slices are left
    out, as ``metrics.seconds_by_agent`` leaves out states with no time."""
    out: dict[SliceKey, float] = {}
    step = timedelta(minutes=minutes)
    for agent, state, reason, t0, t1 in spans:
        lo, hi = max(t0, start), min(t1 or end, end)
        while lo < hi:
            interval = floor(lo, minutes)
            cut = min(interval + step, hi)
            key = (interval, agent, state, reason)
            out[key] = out.get(key, 0.0) + (cut - lo).total_seconds()
            lo = cut
    return out


def totals(spans: Iterable[SpanRow], start: datetime, end: datetime) -> dict[StateKey, float]:
    """(agent, state, reason) -> seconds of the spans clipped to [start, end)."""
    out: dict[StateKey, float] = {}
    for agent, state, reason, t0, t1 in spans:
        lo, hi = max(t0, start), min(t1 or end, end)
        if hi > lo:
            key = (agent, state, reason)
            out[key] = out.get(key, 0.0) + (hi - lo).total_seconds()
    return out
