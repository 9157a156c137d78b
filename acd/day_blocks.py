"""Runs of whole city days for the agent rollups (pure): blocks of 2, 4, 8, 16 and 32 days,
aligned on their length in day numbers (the city date's ordinal), above the day rows.

At 400 agents a month of agent time is some 77,000 day rows (one per agent, state, reason
and day), and a report over it read them all: eight times the rows' agents made the month
report 5-7 times slower at 2M call records than at 20k. Any run of whole days is at most
two blocks of each length plus the odd days at its ends, so a 30-day report reads about a
quarter of the rows, and a calendar month or a year far fewer.

A block holds the sum of its two halves (a block of half its length, or two day rows) and
is written only once its last day is over (``complete``): the rollups rebuild the day
being lived in every minute, and the blocks above it never change while it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

from acd.slices import midnight

LEVELS = (2, 4, 8, 16, 32)  # a block's length in days


def number(t: datetime, zone: str) -> int:
    """The day number of the city day holding ``t``."""
    return t.astimezone(ZoneInfo(zone)).date().toordinal()


def start(n: int, zone: str) -> datetime:
    """When day number ``n`` starts (UTC)."""
    return midnight(date.fromordinal(n), zone)


def cover(first: int, last: int) -> tuple[list[tuple[int, int]], list[int]]:
    """Day numbers [first, last) as the fewest aligned blocks and single days: ([(block's
    first day, its length)], [day]). Greedy: at each day the longest block aligned there
    that ends inside the run."""
    blocks: list[tuple[int, int]] = []
    days: list[int] = []
    n = first
    while n < last:
        size = next((k for k in reversed(LEVELS) if n % k == 0 and n + k <= last), 1)
        if size == 1:
            days.append(n)
        else:
            blocks.append((n, size))
        n += size
    return blocks, days


def above(n: int, done: int) -> Iterator[tuple[int, int]]:
    """The blocks holding day ``n``, shortest first, that are over before day number
    ``done`` starts: (first day, length). Each is the sum of the two halves before it."""
    for k in LEVELS:
        first = n - n % k
        if first + k > done:
            return
        yield first, k


def complete(first: int, done: int) -> Iterator[tuple[int, int]]:
    """Every block of day numbers [first, done) (the days from ``first`` that are over),
    shortest first: a full build, each block's halves built before it."""
    for k in LEVELS:
        n = first + (-first) % k
        while n + k <= done:
            yield n, k
            n += k


def starts(lo: datetime, hi: datetime, zone: str) -> dict[int, list[datetime]]:
    """The whole city days [lo, hi) (midnights) as ``cover`` reads them: length (1: a day
    row) -> the starts of the blocks of that length."""
    blocks, days = cover(number(lo, zone), number(hi, zone))
    out: dict[int, list[datetime]] = {1: [start(n, zone) for n in days]} if days else {}
    for n, k in blocks:
        out.setdefault(k, []).append(start(n, zone))
    return out
