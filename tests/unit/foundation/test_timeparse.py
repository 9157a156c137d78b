"""One rule for typed dates: an offset is that instant; no offset is the typer's clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from foundation.timeparse import city_day, parse_instant

NY = "America/New_York"


def test_an_offset_is_that_instant_whatever_the_zone() -> None:
    at = datetime(2026, 11, 22, 14, 0, tzinfo=UTC)
    assert parse_instant("2026-11-22T09:00-05:00") == at
    assert parse_instant("2026-11-22T14:00Z", naive_zone=NY) == at


def test_no_offset_is_utc_for_machines_and_the_city_clock_for_pages() -> None:
    assert parse_instant("2026-11-22T09:00") == datetime(2026, 11, 22, 9, tzinfo=UTC)
    assert parse_instant("2026-11-22T09:00", naive_zone=NY) == datetime(2026, 11, 22, 14,
                                                                         tzinfo=UTC)


def test_a_bare_end_date_means_the_end_of_that_day() -> None:
    assert parse_instant("2026-11-22", end_of_day=True) == datetime(2026, 11, 23, tzinfo=UTC)
    assert parse_instant("2026-11-22T10:00", end_of_day=True) == datetime(2026, 11, 22, 10,
                                                                          tzinfo=UTC)


@pytest.mark.parametrize("bad", ["", "yesterday", "2026-13-01", "2026-11-22T25:00"])
def test_bad_input_names_the_value(bad: str) -> None:
    with pytest.raises(ValueError, match="not an ISO 8601"):
        parse_instant(bad)


def test_city_day_spans_a_dst_change() -> None:
    start, end = city_day(date(2026, 11, 1), NY)  # clocks go back: a 25-hour day
    assert (end - start).total_seconds() == 25 * 3600
