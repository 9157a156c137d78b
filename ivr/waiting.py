"""What a caller joining a queue hears: their position and an estimated wait, from live
queue data (callers waiting and agents ready now, from Asterisk) and the queue's measured
handle time (pure)."""

from __future__ import annotations

import math


def estimate_wait_s(ahead: int, ready: int, staffed: int, aht_s: float) -> float | None:
    """Seconds until an agent is free for a caller with ``ahead`` callers before them;
    ``ready`` agents free now, ``staffed`` logged in, ``aht_s`` mean handle time in seconds.
    None when nobody is logged in (no estimate can be honest)."""
    if staffed <= 0:
        return None
    if ready > ahead:
        return 0.0
    return (ahead - ready + 1) * aht_s / staffed


def wait_minutes(wait_s: float) -> int:
    """The wait as said to a caller: whole minutes, rounded up, at least 1."""
    return max(1, math.ceil(wait_s / 60))
