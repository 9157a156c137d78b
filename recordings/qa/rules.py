"""Quality assurance rules (pure): weighted form scores, calibration spread, random monthly
samples per agent, and score trends by month."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

MAX_POINTS_LIMIT = 10
DEFAULT_FORM = "Standard call review"
# The criteria; weights are relative (they need not sum to 100).
DEFAULT_CRITERIA = [
    ("Greeting", 15.0, 5, "Standard greeting, name, offers help"),
    ("Listening", 20.0, 5, "Lets the caller explain, confirms the need"),
    ("Accuracy of information", 30.0, 5, "Correct answer, SLA and next steps"),
    ("Correct use of the CRM", 20.0, 5, "Right service type, address, questions answered"),
    ("Closing", 15.0, 5, "Ticket number read back, anything else, thanks"),
]


class QaError(ValueError):
    """Bad QA input (a form or a scoring); the message says what to fix."""


@dataclass(frozen=True)
class Criterion:
    name: str
    weight: float
    max_points: int
    description: str = ""


def validate_criteria(rows: Iterable[Criterion]) -> list[Criterion]:
    out: list[Criterion] = []
    seen: set[str] = set()
    for c in rows:
        name = c.name.strip()
        if not name:
            raise QaError("every criterion needs a name")
        if name.lower() in seen:
            raise QaError(f"criterion {name!r} appears twice")
        if not (math.isfinite(c.weight) and c.weight > 0):
            raise QaError(f"{name}: the weight must be a number above 0")
        if not 1 <= c.max_points <= MAX_POINTS_LIMIT:
            raise QaError(f"{name}: maximum points must be between 1 and {MAX_POINTS_LIMIT}")
        seen.add(name.lower())
        out.append(Criterion(name, float(c.weight), int(c.max_points), c.description.strip()))
    if not out:
        raise QaError("a form needs at least one criterion")
    return out


def weighted_score(criteria: list[Criterion], points: Mapping[str, int]) -> float:
    """Score in percent (0-100): sum(weight * points / max) / sum(weight) * 100."""
    total_w = sum(c.weight for c in criteria)
    got = 0.0
    for c in criteria:
        if c.name not in points:
            raise QaError(f"{c.name}: no points given")
        p = points[c.name]
        if not 0 <= p <= c.max_points:
            raise QaError(f"{c.name}: points must be between 0 and {c.max_points}")
        got += c.weight * p / c.max_points
    return round(100.0 * got / total_w, 2)


@dataclass(frozen=True)
class Spread:
    """How far evaluators of the same call disagree (in score points, 0-100)."""

    n: int
    mean: float
    low: float
    high: float
    range: float
    stdev: float  # population standard deviation


def spread(values: Iterable[float]) -> Spread | None:
    vals = list(values)
    if not vals:
        return None
    mean = sum(vals) / len(vals)
    var = sum((v - mean) ** 2 for v in vals) / len(vals)
    return Spread(len(vals), round(mean, 2), min(vals), max(vals), round(max(vals) - min(vals), 2),
                  round(math.sqrt(var), 2))


def draw(candidates: Mapping[str, list[int]], already: Mapping[str, int], per_agent: int,
         rng: random.Random) -> dict[str, list[int]]:
    """Top each agent's sample up to ``per_agent`` calls, drawn at random from candidates."""
    out: dict[str, list[int]] = {}
    for agent, ids in sorted(candidates.items()):
        need = per_agent - already.get(agent, 0)
        if need > 0 and ids:
            out[agent] = sorted(rng.sample(sorted(ids), min(need, len(ids))))
    return out


def month_of(at: datetime, tz: str) -> str:
    """The city's calendar month of an instant, "YYYY-MM"."""
    return at.astimezone(ZoneInfo(tz)).strftime("%Y-%m")


def monthly_means(rows: Iterable[tuple[str, str, float]]) -> dict[str, dict[str, float]]:
    """{key: {month: mean score}} from (key, month, score) rows."""
    acc: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for key, month, score in rows:
        acc[key][month].append(score)
    return {k: {m: round(sum(v) / len(v), 2) for m, v in sorted(ms.items())}
            for k, ms in sorted(acc.items())}


def trend(by_month: Mapping[str, float]) -> float | None:
    """Change of the latest month's mean against the month before (score points)."""
    months = sorted(by_month)
    if len(months) < 2:
        return None
    return round(by_month[months[-1]] - by_month[months[-2]], 2)
