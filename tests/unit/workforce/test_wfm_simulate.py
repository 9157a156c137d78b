"""The discrete-event simulation agrees with Erlang A within sampling error."""

from __future__ import annotations

import math

import numpy as np

from workforce.erlang import erlang_a
from workforce.simulate import simulate_plan

K, WARMUP = 24, 2  # 12 hours of 30-minute intervals; the first hour starts empty


def _pooled(result, values):
    w = slice(WARMUP, K)
    offered = result.offered[:, w].sum(axis=1)
    return np.nansum((values * result.offered)[:, w], axis=1) / offered


def test_reference_case_matches_erlang_a():
    ref = erlang_a(13, 100 / 1800, 180, 300, 20)
    result = simulate_plan([100] * K, [13] * K, 180, 300, 30, 20, target_sl=0.8, reps=12, seed=1)
    for sim, exact in ((_pooled(result, result.service_level), ref.service_level),
                       (_pooled(result, result.abandon), ref.p_abandon)):
        se = sim.std(ddof=1) / math.sqrt(len(sim))
        assert abs(sim.mean() - exact) < 4 * se, (sim.mean(), exact, se)
        assert se < 0.01


def test_shift_changes_do_not_add_capacity():
    # 13 and 14 agents in turn: never better than 14 all along (ciw's default shift change
    # lets the leaving agents finish their calls, which made such plans look far too good)
    plan = [13, 14] * (K // 2)
    result = simulate_plan([100] * K, plan, 180, 300, 30, 20, reps=8, seed=3)
    sim = _pooled(result, result.service_level)
    se = sim.std(ddof=1) / math.sqrt(len(sim))
    low, high = (erlang_a(n, 100 / 1800, 180, 300, 20).service_level for n in (13, 14))
    assert low - 4 * se < sim.mean() < high + 4 * se


def test_risk_summary_per_interval():
    result = simulate_plan([0, 50, 100], [0, 5, 14], 180, 300, 30, 20, target_sl=0.8, reps=4)
    closed, under, well = result.intervals
    assert closed.offered_mean == 0 and closed.sl_mean == 1.0
    assert under.sl_mean < 0.8 and under.p_miss > 0.5 and under.abandon_mean > 0.02
    assert well.sl_mean > 0.9 and well.sl_p10 <= well.sl_mean <= well.sl_p90


def test_each_interval_uses_its_own_aht():
    # the afternoon's calls take twice as long: the same agents give a far worse service,
    # as Erlang A says for each half (the first hour of each half is left as warm-up)
    half = K // 2
    ahts = [180.0] * half + [360.0] * half
    result = simulate_plan([100] * K, [13] * half + [22] * half, ahts, 300, 30, 20, reps=8,
                           seed=5)
    for w, aht, n in ((slice(WARMUP, half), 180, 13), (slice(half + WARMUP, K), 360, 22)):
        offered = result.offered[:, w].sum(axis=1)
        sim = np.nansum((result.service_level * result.offered)[:, w], axis=1) / offered
        se = sim.std(ddof=1) / math.sqrt(len(sim))
        exact = erlang_a(n, 100 / 1800, aht, 300, 20).service_level
        assert abs(sim.mean() - exact) < 4 * se + 0.005, (aht, sim.mean(), exact, se)
    with np.testing.assert_raises(ValueError):
        simulate_plan([100, 100], [13, 13], [180.0], 300, 30, 20)
