"""Risk of a staffing plan: discrete-event simulation (ciw) with random arrivals and abandonment.

Each replication runs the whole plan: Poisson arrivals at each interval's forecast rate,
exponential handle times with the AHT of the caller's arrival interval, exponential patience,
the planned agents per interval (at a shift change the calls in hand pass to the agents who
stay, so capacity is exactly the plan's). Figures are per *arrival* interval, like the
interval reports: service level over offered calls, abandonment over offered calls.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DRAIN_S = 6 * 3600.0  # after the last interval, time for the queue to empty


@dataclass(frozen=True)
class IntervalRisk:
    """Spread over replications of one interval's service level and abandonment (shares)."""

    index: int
    offered_mean: float
    sl_mean: float
    sl_p10: float
    sl_p90: float
    abandon_mean: float
    abandon_p90: float
    p_miss: float  # share of replications below the SL target


@dataclass(frozen=True)
class SimulationResult:
    """Per-replication arrays (reps × intervals; NaN = no calls) and their summaries."""

    service_level: np.ndarray
    abandon: np.ndarray
    offered: np.ndarray
    intervals: list[IntervalRisk]

    def overall_sl(self) -> np.ndarray:
        """Service level of the whole plan in each replication (answered in time / offered)."""
        answered = np.nan_to_num(self.service_level * self.offered)
        return np.asarray(answered.sum(axis=1) / np.maximum(self.offered.sum(axis=1), 1))


def _service(aht_s: Sequence[float], interval_s: float) -> Any:
    """Exponential handle times with the mean of the caller's arrival interval (seconds)."""
    import random

    import ciw

    means = [float(a) for a in aht_s]
    if len(set(means)) == 1:
        return ciw.dists.Exponential(1.0 / means[0])

    class IntervalExponential(ciw.dists.Distribution):  # type: ignore[misc]
        def sample(self, t: float | None = None, ind: Any = None) -> float:
            at = ind.arrival_date if ind is not None else (t or 0.0)
            return random.expovariate(1.0 / means[min(int(at // interval_s), len(means) - 1)])

    return IntervalExponential()


def _one_run(calls: Sequence[float], agents: Sequence[int], aht_s: Sequence[float],
             patience_s: float | None, interval_s: float, answer_s: float,
             seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import ciw

    k = len(calls)
    ends = [interval_s * (i + 1) for i in range(k)]
    rates = [max(c, 0.0) / interval_s for c in calls]
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.PoissonIntervals(rates, ends, ends[-1])],
        service_distributions=[_service(aht_s, interval_s)],
        number_of_servers=[_schedule(agents, interval_s)],
        reneging_time_distributions=[ciw.dists.Exponential(1.0 / patience_s)]
        if patience_s else None,
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(ends[-1] + DRAIN_S)
    first: dict[int, Any] = {}  # a call moved between agents at a shift change has 2 records
    for r in sim.get_all_records():
        seen = first.get(r.id_number)
        if seen is None or (r.arrival_date, r.service_start_date) < (
                seen.arrival_date, seen.service_start_date):
            first[r.id_number] = r
    offered, fast, gone = np.zeros(k), np.zeros(k), np.zeros(k)
    for r in first.values():
        i = min(int(r.arrival_date // interval_s), k - 1)
        offered[i] += 1
        if r.record_type == "renege":
            gone[i] += 1
        elif r.waiting_time <= answer_s:
            fast[i] += 1
    return offered, fast, gone


def _schedule(agents: Sequence[int], interval_s: float) -> Any:
    """Agents per interval as ciw shifts: equal neighbours merged; at a change, calls in hand
    pass to the next shift's agents (preemptive resume), so capacity is exactly the plan's
    (ciw's default lets leaving agents finish their calls: capacity the plan never had)."""
    import ciw

    counts: list[int] = []
    ends: list[float] = []
    for i, a in enumerate(agents):
        if counts and counts[-1] == int(a):
            ends[-1] = interval_s * (i + 1)
        else:
            counts.append(int(a))
            ends.append(interval_s * (i + 1))
    counts.append(max(1, counts[-1]))  # the last interval stays staffed while the queue drains
    ends.append(ends[-1] + 1e9)
    return ciw.Schedule(numbers_of_servers=counts, shift_end_dates=ends, preemption="resume")


def simulate_plan(calls: Sequence[float], agents: Sequence[int], aht_s: float | Sequence[float],
                  patience_s: float | None, interval_minutes: int, answer_s: float,
                  target_sl: float | None = None, reps: int = 20,
                  seed: int = 0) -> SimulationResult:
    """Simulate ``reps`` runs of a plan (calls and agents per interval; times in seconds)."""
    if len(calls) != len(agents) or not calls:
        raise ValueError("calls and agents need one value per interval")
    if isinstance(aht_s, Sequence | np.ndarray):
        ahts = [float(a) for a in aht_s]
    else:
        ahts = [float(aht_s)] * len(calls)
    if len(ahts) != len(calls) or not all(math.isfinite(a) and a > 0 for a in ahts):
        raise ValueError("AHT needs one number of seconds > 0 (or one per interval)")
    if patience_s is not None and not (math.isfinite(patience_s) and patience_s > 0):
        raise ValueError("patience must be a number of seconds > 0")
    interval_s = interval_minutes * 60.0
    runs = [_one_run(calls, agents, ahts, patience_s, interval_s, answer_s, seed + r)
            for r in range(reps)]
    offered = np.array([o for o, _, _ in runs])
    with np.errstate(invalid="ignore", divide="ignore"):
        sl = np.where(offered > 0, np.array([f for _, f, _ in runs]) / offered, np.nan)
        ab = np.where(offered > 0, np.array([g for _, _, g in runs]) / offered, np.nan)
    risks = []
    for i in range(len(calls)):
        s, a = sl[:, i], ab[:, i]
        known = ~np.isnan(s)
        if not known.any():
            risks.append(IntervalRisk(i, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0))
            continue
        s, a = s[known], a[known]
        miss = float(np.mean(s < target_sl)) if target_sl is not None else float("nan")
        risks.append(IntervalRisk(i, float(offered[:, i].mean()), float(s.mean()),
                                  float(np.quantile(s, 0.1)), float(np.quantile(s, 0.9)),
                                  float(a.mean()), float(np.quantile(a, 0.9)), miss))
    return SimulationResult(sl, ab, offered, risks)
