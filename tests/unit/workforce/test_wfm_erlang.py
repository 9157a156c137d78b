"""Erlang B/C/A against the reference values in notes/workforce.md (to 1e-9)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import expm

from workforce.erlang import (
    Targets,
    agents_erlang_a,
    agents_erlang_c,
    asa,
    erlang_a,
    erlang_b,
    erlang_c,
    occupancy,
    occupancy_floor,
    offered_load,
    scheduled_heads,
    service_level,
    trunks_for_blocking,
)

TOL = 1e-9
A10 = offered_load(100, 180, 1800)  # canonical: 100 calls / 30 min, AHT 180 s


@pytest.mark.parametrize(
    ("n", "p_wait", "sl20", "sl30", "asa_s", "occ"),
    [
        (13, 0.2852704530, 0.7955947884, 0.8269747239, 17.116227, 0.7692),
        (14, 0.1741319336, 0.8883500192, 0.9105976843, 7.835937, 0.7143),
        (15, 0.1020423670, 0.9414528429, 0.9556525701, 3.673525, 0.6667),
    ],
)
def test_erlang_c_canonical_table(n, p_wait, sl20, sl30, asa_s, occ):
    assert A10 == 10.0
    assert erlang_c(n, A10) == pytest.approx(p_wait, abs=TOL)
    assert service_level(n, A10, 180, 20) == pytest.approx(sl20, abs=TOL)
    assert service_level(n, A10, 180, 30) == pytest.approx(sl30, abs=TOL)
    assert asa(n, A10, 180) == pytest.approx(asa_s, abs=5e-7)  # table gives 6 decimals
    assert occupancy(n, A10) == pytest.approx(occ, abs=5e-5)


def test_required_agents_reference_cases():
    assert agents_erlang_c(A10, 180, Targets(0.8, 20)) == 14
    assert agents_erlang_c(A10, 180, Targets(0.9, 30)) == 14
    a50 = offered_load(50, 180, 1800)
    assert agents_erlang_c(a50, 180, Targets(0.8, 20)) == 8
    assert service_level(8, a50, 180, 20) == pytest.approx(0.880148, abs=5e-7)
    a164 = offered_load(164, 180, 1800)
    assert agents_erlang_c(a164, 180, Targets(0.8, 20)) == 21


def test_shrinkage_float_trap():
    assert math.ceil(21 / (1 - 0.3)) == 31  # the trap itself
    assert scheduled_heads(21, 0.3) == 30
    assert scheduled_heads(14, 0.3) == 20
    assert scheduled_heads(14, "0.3") == 20
    assert scheduled_heads(10, 0) == 10
    with pytest.raises(ValueError):
        scheduled_heads(10, 1.0)


def test_occupancy_cap_float_trap():
    assert math.ceil(11.05 / 0.85) == 14  # 13.000000000000002 in binary floating point
    assert occupancy_floor(11.05, 0.85) == 13
    assert occupancy_floor(2.1, 0.7) == 3
    assert agents_erlang_c(A10, 180, Targets(None, 20, max_occupancy=0.8)) == 13
    assert agents_erlang_c(A10, 180, Targets(0.8, 20, max_occupancy=0.5)) == 20


def test_large_loads():
    assert erlang_c(1050, 1000.0) == pytest.approx(0.07440177403742838, abs=TOL)
    assert erlang_b(1100, 1000.0) == pytest.approx(9.507193072456538e-05, abs=TOL)
    assert erlang_b(1100, 1000.0) == pytest.approx(9.507193072456538e-05, rel=1e-9)
    n = agents_erlang_c(1000.0, 180, Targets(0.8, 20))
    assert service_level(n, 1000.0, 180, 20) >= 0.8 > service_level(n - 1, 1000.0, 180, 20)


def test_erlang_b_trunks():
    assert trunks_for_blocking(10.0, 0.01) == 18
    assert erlang_b(18, 10.0) <= 0.01 < erlang_b(17, 10.0)


def test_tiny_loads_do_not_skip_the_answer():
    # a walk that starts at round(A + 1) = 2 would miss that one agent is enough here
    assert agents_erlang_c(0.6, 180, Targets(0.8, 600)) == 1
    assert service_level(1, 0.6, 180, 600) >= 0.8
    assert agents_erlang_c(0.0, 180, Targets(0.8, 20)) == 0


def test_unstable_queue():
    assert erlang_c(10, 10.0) == 1.0
    assert service_level(9, 10.0, 180, 20) == 0.0
    assert asa(10, 10.0, 180) == math.inf


def test_erlang_a_reference():
    r = erlang_a(13, 100 / 1800, 180, 300, 20)
    assert r.service_level == pytest.approx(0.8581777000, abs=TOL)
    assert r.p_abandon == pytest.approx(0.0249633036, abs=TOL)
    assert r.p_wait == pytest.approx(0.2257970840, abs=TOL)
    assert agents_erlang_a(100 / 1800, 180, 300, Targets(0.8, 20)) == 13
    assert erlang_a(12, 100 / 1800, 180, 300, 20).service_level < 0.8


def _birth_death(n, lam, mu, theta, t, k_max=400):
    """Independent check: solve the M/M/n+M chain numerically; arrivals see time averages."""
    rates = [min(k, n) * mu + max(k - n, 0) * theta for k in range(1, k_max)]
    logp = np.concatenate([[0.0], np.cumsum(np.log(lam) - np.log(rates))])
    p = np.exp(logp - logp.max())
    p /= p.sum()
    p_wait = p[n:].sum()
    p_ab = theta * sum(p[k] * (k - n) for k in range(n, k_max)) / lam
    # answered within t from j callers ahead: an absorbing chain of stages j..0 -> served,
    # each stage also left by the caller's own abandonment (rate θ)
    jmax = next(j for j in range(k_max - n) if p[n + j] < 1e-17)
    size = jmax + 3
    served, gone = jmax + 1, jmax + 2
    q = np.zeros((size, size))
    for i in range(jmax + 1):
        q[i, i - 1 if i > 0 else served] = n * mu + i * theta
        q[i, gone] = theta
        q[i, i] = -(n * mu + (i + 1) * theta)
    reach = expm(q * t)[:, served]
    answered_fast = p[:n].sum() + sum(p[n + j] * reach[j] for j in range(jmax + 1))
    return p_wait, p_ab, answered_fast


@pytest.mark.parametrize(("n", "calls", "patience", "k_max"),
                         [(13, 100, 300, 400), (9, 100, 120, 400), (30, 400, 600, 400),
                          (990, 10000, 300, 2500), (1010, 10000, 300, 2500)])  # A = 1000
def test_erlang_a_matches_the_birth_death_chain(n, calls, patience, k_max):
    lam, aht = calls / 1800, 180
    r = erlang_a(n, lam, aht, patience, 20)
    p_wait, p_ab, sl = _birth_death(n, lam, 1 / aht, 1 / patience, 20, k_max)
    assert r.p_wait == pytest.approx(p_wait, abs=1e-9)
    assert r.p_abandon == pytest.approx(p_ab, abs=1e-9)
    assert r.service_level == pytest.approx(sl, abs=1e-7)


def test_erlang_a_tends_to_erlang_c_without_abandonment():
    r = erlang_a(13, 100 / 1800, 180, 1e9, 20)
    assert r.p_wait == pytest.approx(erlang_c(13, A10), abs=1e-6)
    assert r.service_level == pytest.approx(service_level(13, A10, 180, 20), abs=1e-6)
    assert r.asa_s == pytest.approx(asa(13, A10, 180), rel=1e-5)


def test_erlang_a_overload_and_large_load_stay_finite():
    r = erlang_a(5, 1000 / 180, 180, 300, 20)
    assert r.p_abandon == pytest.approx(1 - 5 / 1000, abs=1e-9)
    big = erlang_a(1000, 1000 / 180, 180, 300, 20)
    assert 0 < big.p_abandon < 0.05 and 0.9 < big.service_level < 1
    n = agents_erlang_a(1000 / 180, 180, 300, Targets(0.8, 20))
    assert n < agents_erlang_c(1000.0, 180, Targets(0.8, 20))


def test_erlang_a_asa_counts_answered_callers_only():
    r = erlang_a(13, 100 / 1800, 180, 300, 20)
    mean_wait_all = r.p_abandon * 300  # Little's law: E[W] over everyone = P(ab) / θ
    assert r.asa_s != pytest.approx(mean_wait_all)
    assert 0 < r.asa_s < asa(13, A10, 180)
