"""Which period a subscription reports, and when it falls due (pure).

A report covers the previous full period of the city's calendar: a daily report is sent each
day at the send hour about the day before; a weekly one on Mondays about the week before
(Monday to Sunday); a monthly one on the 1st about the month before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class ReportKind(StrEnum):
    """What a report holds: call figures, request figures, or both."""

    SUMMARY = "summary"
    CALLS = "calls"
    REQUESTS = "requests"

    @property
    def calls(self) -> bool:
        return self is not ReportKind.REQUESTS

    @property
    def requests(self) -> bool:
        return self is not ReportKind.CALLS


@dataclass(frozen=True)
class Period:
    """City days ``first`` to ``last``, both included."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def label(self, frequency: Frequency) -> str:
        if frequency is Frequency.DAILY:
            return self.first.strftime("%A %d %B %Y")
        if frequency is Frequency.WEEKLY:
            return f"week of {self.first:%d %B %Y}"
        return self.first.strftime("%B %Y")


def _send_day(frequency: Frequency, day: date) -> date:
    if frequency is Frequency.DAILY:
        return day
    if frequency is Frequency.WEEKLY:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def reported(frequency: Frequency, send_day: date) -> Period:
    """The period a report sent on ``send_day`` covers."""
    last = send_day - timedelta(days=1)
    if frequency is Frequency.DAILY:
        return Period(last, last)
    if frequency is Frequency.WEEKLY:
        return Period(send_day - timedelta(days=7), last)
    return Period(last.replace(day=1), last)


def latest_due(frequency: Frequency, local_now: datetime, hour: int) -> tuple[Period, datetime]:
    """The latest period due by ``local_now`` (aware, in the city's zone) and when it fell
    due: the send day at ``hour`` o'clock city time."""
    if local_now.tzinfo is None:
        raise ValueError("local_now must be timezone-aware")
    day = local_now.date()
    if local_now.time() < time(hour):
        day -= timedelta(days=1)  # today's send hour has not come yet
    send_day = _send_day(frequency, day)
    return reported(frequency, send_day), datetime.combine(send_day, time(hour),
                                                           local_now.tzinfo)
