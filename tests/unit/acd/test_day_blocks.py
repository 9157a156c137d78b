"""Blocks of whole days for the agent rollups (acd.day_blocks): any run of days is covered
exactly once by aligned blocks and single days; a day's blocks are the ones that hold it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from acd import day_blocks as db


@pytest.mark.parametrize(("first", "last"), [(0, 0), (5, 6), (7, 37), (64, 128), (3, 200),
                                             (738_000, 738_031), (738_123, 738_488)])
def test_a_run_of_days_is_covered_once_by_aligned_blocks(first: int, last: int) -> None:
    blocks, days = db.cover(first, last)
    covered = sorted([*days, *(n + i for n, k in blocks for i in range(k))])
    assert covered == list(range(first, last))  # every day once, none outside
    assert all(k in db.LEVELS and n % k == 0 for n, k in blocks)
    assert len(blocks) + len(days) <= 2 * len(db.LEVELS) + (last - first) // 32 + 2


def test_a_month_reads_a_few_rows_instead_of_thirty() -> None:
    blocks, days = db.cover(738_000, 738_030)
    assert len(blocks) + len(days) <= 8


def test_the_blocks_above_a_day_are_those_over_and_holding_it() -> None:
    assert list(db.above(37, 100)) == [(36, 2), (36, 4), (32, 8), (32, 16), (32, 32)]
    assert list(db.above(37, 40)) == [(36, 2), (36, 4), (32, 8)]  # over as day 40 starts
    assert list(db.above(37, 39)) == [(36, 2)]  # (36, 4) holds day 39, not over yet
    assert list(db.above(37, 37)) == []  # the day itself is not over
    full = list(db.complete(5, 40))
    assert (6, 2) in full and (32, 8) in full and (8, 32) not in full and (4, 2) not in full
    assert [k for _, k in full] == sorted(k for _, k in full)  # halves before wholes


def test_day_numbers_are_city_days() -> None:
    late_evening = datetime(2026, 11, 2, 4, 30, tzinfo=UTC)  # 23:30 on the 1st in New York
    n = db.number(late_evening, "America/New_York")
    assert n == db.number(datetime(2026, 11, 1, 12, tzinfo=UTC), "America/New_York")
    assert db.start(n, "America/New_York") == datetime(2026, 11, 1, 4, tzinfo=UTC)  # EDT
    assert db.start(n + 1, "America/New_York") == datetime(2026, 11, 2, 5, tzinfo=UTC)  # EST
    assert db.starts(db.start(n, "UTC"), db.start(n + 3, "UTC"), "UTC").keys() <= {1, 2}
