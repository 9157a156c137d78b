"""The search for the highest call rate that passes, apart from what a trial does (pure).

A trial at one rate costs seconds of real calls, so the search asks as few as it can: it
doubles from a first rate until a trial fails (or the cap passes), then halves the gap
between the highest pass and the lowest failure until the gap is within ``resolution``
of the pass. Load on a shared machine is not monotonic in the rate at the edge; the
search reports every trial it made, so a reader sees a pass above a failure if one
happened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Trial:
    """One rate tried: calls/s and whether every call of it passed."""

    rate: int
    passed: bool


def highest_passing(passes: Callable[[int], bool], first: int, cap: int,
                    resolution: float = 0.1) -> tuple[int, list[Trial]]:
    """The highest rate (calls/s, 1..cap) at which ``passes`` held, 0 if none, and every
    trial in order; the answer is within ``resolution`` (a fraction of it, at least 1
    call/s) of the lowest rate that failed."""
    if not 1 <= first <= cap:
        raise ValueError(f"first rate {first} is not within 1..{cap}")
    trials: list[Trial] = []

    def trial(rate: int) -> bool:
        ok = passes(rate)
        trials.append(Trial(rate, ok))
        return ok

    low, high = 0, cap + 1  # the highest pass, the lowest failure (cap + 1: none yet)
    rate = first
    while trial(rate):
        low = rate
        if rate == cap:
            return low, trials
        rate = min(2 * rate, cap)
    high = rate
    while high - low > max(1.0, resolution * low):
        rate = (low + high) // 2
        if trial(rate):
            low = rate
        else:
            high = rate
    return low, trials
