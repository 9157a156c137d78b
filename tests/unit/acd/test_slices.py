"""Agent state spans cut into the rollups' 15-minute intervals, against hand-computed
seconds: a span across a boundary counts on both sides, an open one up to the end."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from acd.slices import ceil, day_ceil, day_floor, floor, next_day, split, totals

T0 = datetime(2026, 3, 7, 23, 0, tzinfo=UTC)  # an hour before a UTC midnight


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_span_across_boundaries_is_cut_at_each() -> None:
    cut = split([("100", "on_call", "", at(10), at(50))], at(0), at(120))
    assert cut == {(at(0), "100", "on_call", ""): 300.0, (at(15), "100", "on_call", ""): 900.0,
                   (at(30), "100", "on_call", ""): 900.0, (at(45), "100", "on_call", ""): 300.0}


def test_a_span_across_midnight_an_open_one_and_the_window_edges() -> None:
    spans = [("100", "paused", "lunch", at(50), at(70.5)),  # across the UTC midnight
             ("101", "available", "", at(-30), None),  # open, from before the window
             ("102", "wrapup", "", at(20), at(20)),  # zero long: no slice
             ("103", "on_call", "", at(200), at(210))]  # after the window
    cut = split(spans, at(5), at(65))
    assert cut[(at(45), "100", "paused", "lunch")] == 600.0
    assert cut[(at(60), "100", "paused", "lunch")] == 300.0  # the next UTC day, up to the end
    assert at(60) == datetime(2026, 3, 8, tzinfo=UTC)
    assert cut[(at(0), "101", "available", "")] == 600.0  # from the window's start
    assert sum(v for k, v in cut.items() if k[1] == "101") == 3600.0
    assert {k[1] for k in cut} == {"100", "101"}


def test_the_slices_add_up_to_the_clipped_spans() -> None:
    rng = random.Random(4)
    spans = []
    t = at(-90)
    for i in range(400):
        length = timedelta(seconds=rng.choice((0, 0.25, 17, 300, 1234.567891, 5000)))
        spans.append((str(100 + i % 3), rng.choice(("available", "paused", "on_call")),
                      rng.choice(("", "lunch")), t, t + length))
        t += length + timedelta(microseconds=rng.randrange(10**6))
    start, end = at(-7.3), t - timedelta(minutes=31.7)
    cut = split(spans, start, end)
    assert all(floor(k[0]) == k[0] and 0 < v <= 900 for k, v in cut.items())
    whole = totals(spans, start, end)
    summed: dict[tuple[str, str, str], float] = {}
    for (_, a, st, r), v in cut.items():
        summed[(a, st, r)] = summed.get((a, st, r), 0.0) + v
    assert set(summed) == set(whole)
    assert all(abs(summed[k] - whole[k]) < 1e-6 for k in whole)


def test_floor_and_ceil_on_the_utc_clock() -> None:
    ny = ZoneInfo("America/New_York")
    local = datetime(2026, 3, 8, 0, 0, tzinfo=ny)  # a city midnight is a 15-minute boundary
    assert floor(local) == local and ceil(local) == local
    assert ceil(at(0.01)) == at(15) and floor(at(14.99)) == at(0)
    assert floor(at(70), 24 * 60) == at(60) and ceil(at(60), 24 * 60) == at(60)


def test_city_days_across_dst_are_23_and_25_hours() -> None:
    zone = "America/New_York"
    spring = datetime(2026, 3, 8, 15, 0, tzinfo=UTC)  # 11:00 on the day clocks go forward
    assert day_floor(spring, zone) == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    assert next_day(spring, zone) - day_floor(spring, zone) == timedelta(hours=23)
    autumn = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # the autumn day's first instant
    assert day_floor(autumn, zone) == autumn == day_ceil(autumn, zone)
    assert next_day(autumn, zone) - autumn == timedelta(hours=25)
    assert day_ceil(autumn + timedelta(minutes=15), zone) == next_day(autumn, zone)
