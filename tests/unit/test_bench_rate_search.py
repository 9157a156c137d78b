"""The benchmarks' search for the highest call rate that passes (bench/rate_search.py)."""

from __future__ import annotations

import pytest

from bench.rate_search import Trial, highest_passing


@pytest.mark.parametrize("ceiling", [1, 7, 19, 20, 21, 55, 99, 140, 157])
def test_the_answer_passes_and_is_within_the_resolution_of_a_failure(ceiling: int) -> None:
    best, trials = highest_passing(lambda r: r <= ceiling, first=20, cap=300, resolution=0.1)
    assert best <= ceiling
    assert ceiling - best <= max(1, 0.1 * best)
    assert all(t.passed == (t.rate <= ceiling) for t in trials)
    assert len({t.rate for t in trials}) == len(trials)  # no rate is tried twice


def test_it_doubles_then_halves_the_gap() -> None:
    best, trials = highest_passing(lambda r: r <= 100, first=20, cap=300, resolution=0.1)
    assert best == 100
    assert trials == [Trial(20, True), Trial(40, True), Trial(80, True), Trial(160, False),
                      Trial(120, False), Trial(100, True), Trial(110, False)]


def test_the_cap_ends_the_search_when_everything_passes() -> None:
    best, trials = highest_passing(lambda r: True, first=20, cap=50)
    assert (best, [t.rate for t in trials]) == (50, [20, 40, 50])


def test_nothing_passing_is_zero() -> None:
    best, trials = highest_passing(lambda r: False, first=8, cap=50)
    assert best == 0
    assert [t.rate for t in trials] == [8, 4, 2, 1]


def test_a_first_rate_outside_the_cap_is_refused() -> None:
    with pytest.raises(ValueError, match="not within"):
        highest_passing(lambda r: True, first=60, cap=50)
