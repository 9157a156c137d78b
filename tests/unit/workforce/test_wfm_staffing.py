"""Staffing many intervals at once gives exactly what the one-interval Erlang walk gives."""

from __future__ import annotations

import numpy as np
import pytest

from workforce.erlang import Targets, agents_erlang_a, agents_erlang_c, scheduled_heads
from workforce.staffing import staff, target_share


def test_reference_intervals():
    rows = staff([100, 50, 164, 0], 180, 30, Targets(0.8, 20), shrinkage="0.3")
    assert [(r.agents, r.scheduled) for r in rows] == [(14, 20), (8, 12), (21, 30), (0, 0)]
    assert rows[0].service_level == pytest.approx(0.8883500192, abs=1e-9)
    assert rows[0].asa_s == pytest.approx(7.835937, abs=5e-7)
    assert rows[0].occupancy == pytest.approx(10 / 14)
    assert rows[3].service_level == 1.0 and rows[3].asa_s == 0.0


def test_float_shrinkage_is_exact_too():
    assert staff([164], 180, 30, Targets(0.8, 20), shrinkage=0.3)[0].scheduled == 30


@pytest.mark.parametrize("targets", [Targets(0.8, 20), Targets(0.9, 30, max_asa_s=10),
                                     Targets(None, 20, max_asa_s=5, max_occupancy=0.85),
                                     Targets(0.8, 20, max_occupancy="0.85")])
def test_vectorised_equals_the_scalar_walk(targets):
    rng = np.random.default_rng(7)
    calls = np.concatenate([rng.integers(0, 400, 300), rng.uniform(0, 3, 50), [6000, 6000.5]])
    aht = rng.uniform(120, 400, len(calls))
    rows = staff(calls, aht, 15, targets)
    for c, h, r in zip(calls, aht, rows, strict=True):
        assert r.agents == agents_erlang_c(c * h / 900, h, targets)


def test_erlang_a_staffing():
    rows = staff([100, 100, 0], 180, 30, Targets(0.8, 20), patience_s=300, shrinkage=0.3)
    assert rows[0].agents == 13 == agents_erlang_a(100 / 1800, 180, 300, Targets(0.8, 20))
    assert rows[0].scheduled == scheduled_heads(13, 0.3) == 19
    assert rows[0].service_level == pytest.approx(0.8581777000, abs=1e-9)
    assert rows[0].p_abandon == pytest.approx(0.0249633036, abs=1e-9)
    assert rows[2].agents == 0 and rows[2].p_abandon == 0.0


def test_bad_input():
    with pytest.raises(ValueError):
        staff([-1], 180, 30, Targets())
    with pytest.raises(ValueError):
        target_share(120)
    assert target_share(80) == 0.8 and target_share(0.9) == 0.9


def test_occupancy_cap_float_trap_in_the_vectorised_walk():
    # 221 calls/h × 180 s = 11.05 Erlangs; 11.05 / 0.85 is 13.000000000000002 in floats
    rows = staff([221, 221.0001], 180, 60, Targets(None, 20, max_occupancy=0.85))
    assert [r.agents for r in rows] == [13, 14]
    assert rows[0].occupancy == pytest.approx(11.05 / 13)


def test_large_loads_vectorised():
    calls = [1000 * 1800 / 180, 1e-3, 3.5]  # A = 1000 Erlangs next to tiny loads
    rows = staff(calls, 180, 30, Targets(0.8, 20))
    assert [r.agents for r in rows] == [agents_erlang_c(c * 180 / 1800, 180, Targets(0.8, 20))
                                        for c in calls]
    assert rows[0].agents > 1000 and rows[1].agents == 1


@pytest.mark.parametrize("kwargs", [dict(calls=[float("nan")]), dict(calls=[1, float("inf")]),
                                    dict(aht_s=0), dict(aht_s=[180, float("nan")], calls=[1, 2]),
                                    dict(patience_s=0), dict(patience_s=float("nan")),
                                    dict(interval_minutes=0)])
def test_staff_refuses_bad_input(kwargs):
    args = {"calls": [10, 20], "aht_s": 180, "interval_minutes": 30, "targets": Targets(),
            **kwargs}
    with pytest.raises(ValueError):
        staff(**args)


@pytest.mark.parametrize("kwargs", [dict(service_level=1.2), dict(service_level=0),
                                    dict(service_level=float("nan")), dict(answer_s=-1),
                                    dict(answer_s=float("inf")), dict(max_asa_s=0),
                                    dict(max_occupancy="1.5"), dict(max_occupancy="lots")])
def test_targets_refuse_what_no_staffing_can_meet(kwargs):
    with pytest.raises(ValueError):
        Targets(**kwargs)
