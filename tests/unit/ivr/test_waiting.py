from __future__ import annotations

from ivr.waiting import estimate_wait_s, wait_minutes


def test_estimated_wait() -> None:
    assert estimate_wait_s(ahead=0, ready=1, staffed=3, aht_s=240) == 0.0
    assert estimate_wait_s(ahead=2, ready=3, staffed=3, aht_s=240) == 0.0
    assert estimate_wait_s(ahead=0, ready=0, staffed=2, aht_s=240) == 120.0  # half an AHT
    assert estimate_wait_s(ahead=5, ready=1, staffed=4, aht_s=300) == 375.0
    assert estimate_wait_s(ahead=3, ready=0, staffed=0, aht_s=300) is None
    assert [wait_minutes(s) for s in (1, 60, 61, 375)] == [1, 1, 2, 7]
