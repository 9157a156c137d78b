"""Shift templates and the schedule optimizer: cover the requirement per interval with the
fewest paid hours (integer program, PuLP with its bundled CBC).

Each template (length, allowed start times, breaks with a window) is expanded into every
concrete variant — a start on a day and a position for each break — and the program picks
how many agents work each variant. Coverage of an interval is the share of it an agent works,
so breaks and shifts need not line up with the interval grid. An interval no variant can
cover is reported as understaffed rather than making the whole schedule infeasible.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

UNDER_PENALTY = 1000.0  # per agent-hour short: coverage always beats saving paid hours
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Break:
    """A break of ``minutes``, starting ``earliest`` to ``latest`` minutes into the shift."""

    minutes: int
    earliest: int
    latest: int
    paid: bool = False


@dataclass(frozen=True)
class ShiftTemplate:
    """A kind of shift: length (minutes, breaks included), start times, breaks, weekdays."""

    name: str
    length_minutes: int
    starts: tuple[time, ...]
    breaks: tuple[Break, ...] = ()
    weekdays: tuple[int, ...] = tuple(range(7))
    max_agents: int | None = None

    @property
    def paid_hours(self) -> float:
        unpaid = sum(b.minutes for b in self.breaks if not b.paid)
        return (self.length_minutes - unpaid) / 60.0


@dataclass(frozen=True)
class Shift:
    """``agents`` people working one variant: start/end and break times (aware datetimes)."""

    template: str
    start: datetime
    end: datetime
    breaks: tuple[tuple[datetime, datetime], ...]
    agents: int
    paid_hours: float


@dataclass
class Schedule:
    """The chosen shifts and, per interval, required vs scheduled agents."""

    status: str
    shifts: list[Shift]
    interval_starts: list[datetime]
    required: list[float]
    scheduled: list[float]
    paid_hours: float = 0.0
    notes: list[str] = field(default_factory=list)

    def gaps(self) -> list[float]:
        """Scheduled minus required per interval: negative is understaffed."""
        return [s - r for s, r in zip(self.scheduled, self.required, strict=True)]


def every(earliest: time, latest: time, step_minutes: int) -> tuple[time, ...]:
    """Start times from earliest to latest (inclusive) every step_minutes."""
    first = earliest.hour * 60 + earliest.minute
    last = latest.hour * 60 + latest.minute
    return tuple(time(m // 60, m % 60) for m in range(first, last + 1, step_minutes))


Spans = tuple[tuple[datetime, datetime], ...]


def _variants(templates: Sequence[ShiftTemplate], days: list[date], tz: tzinfo,
              step: int) -> list[tuple[ShiftTemplate, datetime, Spans]]:
    """Every (template, start, break spans) a template allows on these local days."""
    out = []
    for t, day in itertools.product(templates, days):
        if day.weekday() not in t.weekdays:
            continue
        for start_time in t.starts:
            start = datetime.combine(day, start_time, tzinfo=tz).astimezone(UTC)
            positions = [range(b.earliest, b.latest + 1, step) for b in t.breaks]
            for offsets in itertools.product(*positions):
                spans = tuple((start + timedelta(minutes=o),
                               start + timedelta(minutes=o + b.minutes))
                              for o, b in zip(offsets, t.breaks, strict=True))
                if all(a[1] <= b[0] for a, b in itertools.pairwise(spans)):
                    out.append((t, start, spans))
    return out


def _worked(start: datetime, end: datetime, breaks: Spans, t0: datetime, t1: datetime) -> float:
    """Minutes of [t0, t1) worked by a shift [start, end) less its breaks."""
    def overlap(a: datetime, b: datetime) -> float:
        return max(0.0, (min(b, t1) - max(a, t0)).total_seconds() / 60.0)
    return overlap(start, end) - sum(overlap(a, b) for a, b in breaks)


def optimize(interval_starts: Sequence[datetime], required: Sequence[float],
             interval_minutes: int, templates: Sequence[ShiftTemplate], tz: tzinfo,
             time_limit_s: int = 60, gap: float = 0.005) -> Schedule:
    """Fewest paid hours covering ``required`` agents per interval (aware interval starts);
    stops at a proven relative ``gap`` to the optimum or after time_limit_s seconds."""
    import pulp

    starts = [s.astimezone(UTC) for s in interval_starts]
    if not starts:
        return Schedule("Empty", [], [], [], [])
    step = timedelta(minutes=interval_minutes)
    local_days = sorted({s.astimezone(tz).date() for s in starts})
    days = [local_days[0] - timedelta(days=1), *local_days]  # shifts running past midnight
    grain = min([interval_minutes, *(b.minutes for t in templates for b in t.breaks)])
    variants = _variants(templates, days, tz, max(5, min(15, grain)))
    prob = pulp.LpProblem("schedule", pulp.LpMinimize)
    new_var = getattr(prob, "add_variable", None) or pulp.LpVariable  # PuLP 3 / PuLP 2
    x = [new_var(f"x{i}", 0, v[0].max_agents, "Integer") for i, v in enumerate(variants)]
    short = [new_var(f"u{j}", 0, None, "Continuous") for j in range(len(starts))]
    cover: list[list[tuple[int, float]]] = [[] for _ in starts]
    index = {s: j for j, s in enumerate(starts)}
    for i, (t, start, spans) in enumerate(variants):
        end = start + timedelta(minutes=t.length_minutes)
        k = start - (start - starts[0]) % step
        while k < end:
            if k in index:
                share = _worked(start, end, spans, k, k + step) / interval_minutes
                if share > 0:
                    cover[index[k]].append((i, share))
            k += step
    hours = interval_minutes / 60.0
    prob += (pulp.lpSum(v[0].paid_hours * x[i] for i, v in enumerate(variants))
             + UNDER_PENALTY * hours * pulp.lpSum(short))
    for j, need in enumerate(required):
        prob += pulp.lpSum(share * x[i] for i, share in cover[j]) + short[j] >= float(need)
    with warnings.catch_warnings():  # PuLP 3 deprecates its bundled CBC in favour of an extra
        warnings.filterwarnings("ignore", "PULP_CBC_CMD is deprecated", DeprecationWarning)
        prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, gapRel=gap))
    # CBC stopped by the time limit still reports status "Optimal"; sol_status tells apart
    status = {pulp.LpSolutionOptimal: "Optimal",
              pulp.LpSolutionIntegerFeasible: "Feasible (time limit)",  # not proven optimal
              pulp.LpSolutionNoSolutionFound: "No solution (time limit)",
              }.get(prob.sol_status, pulp.LpStatus[prob.status])
    counts = [round(v.value() or 0) for v in x]
    shifts = [Shift(t.name, start.astimezone(tz),
                    (start + timedelta(minutes=t.length_minutes)).astimezone(tz),
                    tuple((a.astimezone(tz), b.astimezone(tz)) for a, b in spans), n,
                    n * t.paid_hours)
              for (t, start, spans), n in zip(variants, counts, strict=True) if n > 0]
    shifts.sort(key=lambda s: (s.start, s.template))
    scheduled = [sum(share * counts[i] for i, share in cover[j]) for j in range(len(starts))]
    notes = [f"{sum(1 for c in cover if not c)} interval(s) no shift template can cover"] if any(
        not c for c in cover) else []
    return Schedule(status, shifts, list(interval_starts), [float(r) for r in required],
                    scheduled, sum(s.paid_hours for s in shifts), notes)


class TemplateError(ValueError):
    """A shift template is malformed."""


def _clock(raw: object, where: str) -> time:
    try:
        return time.fromisoformat(str(raw))
    except ValueError as exc:
        raise TemplateError(f"{where}: not a time of day: {raw!r}") from exc


def templates_from_data(data: object) -> list[ShiftTemplate]:
    """Templates from parsed YAML/JSON: ``{"shifts": [{name, length_minutes, starts, breaks,
    days, max_agents}]}``; starts is a list of times or ``{from, to, every}`` (minutes)."""
    items = data.get("shifts") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise TemplateError("expected a 'shifts' list")
    out = []
    for n, item in enumerate(items, start=1):
        where = f"shift {n}"
        if not isinstance(item, dict):
            raise TemplateError(f"{where}: expected a mapping")
        try:
            name = str(item.get("name") or f"shift{n}")
            length = int(item["length_minutes"])
            raw = item["starts"]
            if isinstance(raw, dict):
                starts = every(_clock(raw["from"], where), _clock(raw["to"], where),
                               int(raw.get("every", 30)))
            else:
                starts = tuple(_clock(s, where) for s in raw)
            breaks = tuple(Break(int(b["minutes"]), int(b["earliest"]), int(b["latest"]),
                                 bool(b.get("paid", False))) for b in item.get("breaks") or [])
            days = tuple(WEEKDAYS.index(str(d).lower()[:3]) for d in item.get("days", WEEKDAYS))
            cap = item.get("max_agents")
        except (KeyError, TypeError, ValueError) as exc:
            raise TemplateError(f"{where}: {exc}") from exc
        if length <= 0 or not starts:
            raise TemplateError(f"{where}: needs a positive length and at least one start")
        if any(b.earliest < 0 or b.latest < b.earliest or b.latest + b.minutes > length
               for b in breaks):
            raise TemplateError(f"{where}: each break must fit inside the shift")
        out.append(ShiftTemplate(name, length, starts, breaks, days,
                                 None if cap is None else int(cap)))
    return out
