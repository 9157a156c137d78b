"""Agents needed per interval for a forecast: Erlang C (vectorised over intervals) or Erlang A.

One staffing walk per distinct load, all distinct loads at once: Erlang B is carried up by
its recursion for every load together (numpy), then each load walks up from floor(A) + 1
until every target holds. Same arithmetic as ``erlang.agents_erlang_c``, a year of
15-minute intervals in a fraction of the per-interval loop's time (bench/bench_wfm.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from workforce.erlang import (
    Targets,
    agents_erlang_a,
    erlang_a,
    exact,
    occupancy_floor,
    scheduled_heads,
)


@dataclass(frozen=True)
class Staffing:
    """One interval's requirement and the figures it gives (asa_s in seconds)."""

    agents: int
    scheduled: int
    service_level: float
    asa_s: float
    occupancy: float
    p_abandon: float | None = None


def _occupancy_floors(a: np.ndarray, cap: float | str | Fraction) -> np.ndarray:
    """``occupancy_floor`` for every load: float division, and the exact fraction wherever the
    quotient lies so near an integer that binary rounding could tip the ceiling."""
    occupancy_floor(1.0, cap)  # validates the cap
    q = a / float(exact(cap))
    out = np.ceil(q)
    near = np.abs(q - np.round(q)) <= 1e-6 * np.maximum(q, 1.0)
    for i in np.flatnonzero(near):
        out[i] = occupancy_floor(float(a[i]), cap)
    return out.astype(np.int64)


def _erlang_b_many(n: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Erlang B(n_i, a_i) for every pair by the stable recursion, the same float operations
    as ``erlang.erlang_b``; at step k only the loads with n_i >= k (a prefix, once sorted)."""
    order = np.argsort(-n, kind="stable")
    ns, as_, b = n[order], a[order], np.ones_like(a)
    active = len(ns)
    for k in range(1, int(ns[0]) + 1 if len(ns) else 1):
        while active and ns[active - 1] < k:
            active -= 1
        bb, aa = b[:active], as_[:active]
        b[:active] = aa * bb / (k + aa * bb)
    out = np.empty_like(b)
    out[order] = b
    return out


def _erlang_c_many(a: np.ndarray, aht: np.ndarray, targets: Targets) -> tuple[np.ndarray, ...]:
    """Fewest agents per load (a > 0) and their SL, ASA, occupancy; all loads at once."""
    n = np.floor(a).astype(np.int64) + 1
    if targets.max_occupancy is not None:
        n = np.maximum(n, _occupancy_floors(a, targets.max_occupancy))
    b = _erlang_b_many(n, a)
    agents = np.zeros_like(n)
    sl_out, asa_out = np.zeros_like(a), np.zeros_like(a)
    todo = np.arange(len(a))
    while len(todo):
        nn, aa, bb, hh = n[todo], a[todo], b[todo], aht[todo]
        c = nn * bb / (nn - aa * (1.0 - bb))
        sl = 1.0 - c * np.exp(-(nn - aa) * targets.answer_s / hh)
        asa = c * hh / (nn - aa)
        ok = np.ones(len(todo), dtype=bool)
        if targets.service_level is not None:
            ok &= sl >= targets.service_level
        if targets.max_asa_s is not None:
            ok &= asa <= targets.max_asa_s
        done = todo[ok]
        agents[done], sl_out[done], asa_out[done] = nn[ok], sl[ok], asa[ok]
        todo = todo[~ok]
        n[todo] += 1
        b[todo] = a[todo] * b[todo] / (n[todo] + a[todo] * b[todo])
    return agents, sl_out, asa_out, a / np.maximum(agents, 1)


def staff(calls: Sequence[float], aht_s: float | Sequence[float], interval_minutes: int,
          targets: Targets, patience_s: float | None = None,
          shrinkage: float | str | Fraction = 0) -> list[Staffing]:
    """Requirement per interval: calls per interval, AHT and patience in seconds; Erlang A
    (SL over offered calls, ASA over answered calls) when patience_s is given, else Erlang C."""
    interval_s = interval_minutes * 60.0
    calls_a = np.asarray(calls, dtype=float)
    aht_a = np.broadcast_to(np.asarray(aht_s, dtype=float), calls_a.shape)
    if interval_minutes <= 0:
        raise ValueError("interval minutes must be > 0")
    if not (np.all(np.isfinite(calls_a)) and np.all(np.isfinite(aht_a))):
        raise ValueError("calls and AHT must be finite numbers")
    if np.any(calls_a < 0) or np.any(aht_a <= 0):
        raise ValueError("calls must be >= 0 and AHT > 0")
    if patience_s is not None and not (math.isfinite(patience_s) and patience_s > 0):
        raise ValueError("patience must be a finite number of seconds > 0")
    shrink = exact(shrinkage)
    keys = np.stack([calls_a, aht_a], axis=1) if len(calls_a) else np.zeros((0, 2))
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    busy = uniq[:, 0] > 0
    results: list[Staffing] = [Staffing(0, 0, 1.0, 0.0, 0.0, 0.0 if patience_s else None)] * len(
        uniq)
    idx = np.flatnonzero(busy)
    if patience_s is None:
        loads = uniq[idx, 0] * uniq[idx, 1] / interval_s
        agents, sl, asa, occ = _erlang_c_many(loads, uniq[idx, 1].copy(), targets)
        heads = {n: scheduled_heads(n, shrink) for n in set(agents.tolist())}  # exact, per n
        for k, n, s, w, o in zip(idx.tolist(), agents.tolist(), sl.tolist(), asa.tolist(),
                                 occ.tolist(), strict=True):
            results[k] = Staffing(n, heads[n], s, w, o)
    else:
        for k in idx.tolist():
            rate, aht = float(uniq[k, 0]) / interval_s, float(uniq[k, 1])
            n = agents_erlang_a(rate, aht, patience_s, targets)
            r = erlang_a(n, rate, aht, patience_s, targets.answer_s)
            results[k] = Staffing(n, scheduled_heads(n, shrink), r.service_level, r.asa_s,
                                  r.occupancy, r.p_abandon)
    return [results[i] for i in np.ravel(inverse)]


def target_share(value: float) -> float:
    """A service-level target given as a share (0.8) or a percentage (80) -> share."""
    share = value / 100.0 if value > 1 else value
    if not 0 < share <= 1 or math.isnan(share):
        raise ValueError("service-level target must be a share in (0, 1] or a percentage")
    return share
