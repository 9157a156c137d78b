"""Business calendar and SLA clock (pure): working hours, the city's holidays, due dates.

Rule and clock apart: every function takes the instants it needs; nothing reads the clock.
All arithmetic is done in UTC; the city's zone only decides where working days begin and end,
so a DST change never stretches or shrinks a working day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo

MAX_DAYS = 3660  # never look further than ten years for working time


class SlaUnit(StrEnum):
    BUSINESS_HOURS = "business_hours"
    BUSINESS_DAYS = "business_days"
    CALENDAR_DAYS = "calendar_days"


@dataclass(frozen=True)
class SlaPolicy:
    """A service type's promise: ``amount`` of ``unit`` from the time the ticket is opened."""

    unit: SlaUnit
    amount: float

    def describe(self) -> str:
        """Words an agent reads to a caller, e.g. '3 business days'."""
        n = int(self.amount) if float(self.amount).is_integer() else self.amount
        noun = {"business_hours": "business hour", "business_days": "business day",
                "calendar_days": "day"}[self.unit.value]
        return f"{n} {noun}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours ``opens``-``closes`` on ``workdays`` (0 = Monday) in ``tz``, minus holidays."""

    tz: tzinfo = field(default_factory=lambda: ZoneInfo("America/New_York"))
    opens: time = time(8, 0)
    closes: time = time(17, 0)
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    holidays: frozenset[date] = frozenset()

    @property
    def day_seconds(self) -> float:
        """Length of one working day, seconds."""
        return float((self.closes.hour * 60 + self.closes.minute
                      - self.opens.hour * 60 - self.opens.minute) * 60)

    def is_business_day(self, d: date) -> bool:
        return d.weekday() in self.workdays and d not in self.holidays

    def window(self, d: date) -> tuple[datetime, datetime]:
        """The working window of local day ``d`` as UTC instants."""
        start = datetime.combine(d, self.opens, tzinfo=self.tz).astimezone(UTC)
        end = datetime.combine(d, self.closes, tzinfo=self.tz).astimezone(UTC)
        return start, end

    def local_date(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Working seconds between two instants; negative when ``end`` is before ``start``."""
        if end < start:
            return -self.business_seconds(end, start)
        total = 0.0
        d = self.local_date(start)
        last = self.local_date(end)
        while d <= last:
            if self.is_business_day(d):
                ws, we = self.window(d)
                lo, hi = max(ws, start), min(we, end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            d += timedelta(days=1)
        return total

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The instant ``seconds`` of working time after (or, if negative, before) ``start``."""
        if seconds == 0:
            return start
        if seconds < 0:
            return self._subtract(start, -seconds)
        d = self.local_date(start)
        left = seconds
        for _ in range(MAX_DAYS):
            if self.is_business_day(d):
                ws, we = self.window(d)
                lo = max(ws, start)
                if we > lo:
                    avail = (we - lo).total_seconds()
                    if left <= avail:
                        return lo + timedelta(seconds=left)
                    left -= avail
            d += timedelta(days=1)
        raise ValueError("no working time in the calendar")

    def _subtract(self, start: datetime, seconds: float) -> datetime:
        d = self.local_date(start)
        left = seconds
        for _ in range(MAX_DAYS):
            if self.is_business_day(d):
                ws, we = self.window(d)
                hi = min(we, start)
                if hi > ws:
                    avail = (hi - ws).total_seconds()
                    if left <= avail:
                        return hi - timedelta(seconds=left)
                    left -= avail
            d -= timedelta(days=1)
        raise ValueError("no working time in the calendar")

    # ---- the SLA clock ----------------------------------------------------------------------
    def sla_seconds(self, policy: SlaPolicy) -> float:
        """Total length of the SLA in its own clock (working seconds or wall seconds)."""
        if policy.unit is SlaUnit.BUSINESS_HOURS:
            return policy.amount * 3600.0
        if policy.unit is SlaUnit.BUSINESS_DAYS:
            return policy.amount * self.day_seconds
        return policy.amount * 86400.0

    def sla_add(self, policy: SlaPolicy, start: datetime, seconds: float) -> datetime:
        """Move ``seconds`` along the policy's clock from ``start``."""
        if policy.unit is SlaUnit.CALENDAR_DAYS:
            return start + timedelta(seconds=seconds)
        return self.add_business_seconds(start, seconds)

    def sla_elapsed(self, policy: SlaPolicy, start: datetime, end: datetime) -> float:
        """Seconds of the policy's clock between two instants (signed)."""
        if policy.unit is SlaUnit.CALENDAR_DAYS:
            return (end - start).total_seconds()
        return self.business_seconds(start, end)

    def due(self, policy: SlaPolicy, opened: datetime) -> datetime:
        """Expected completion of a ticket opened at ``opened``."""
        return self.sla_add(policy, opened, self.sla_seconds(policy))

    def extend_for_hold(self, policy: SlaPolicy, due: datetime, held_from: datetime,
                        held_to: datetime) -> datetime:
        """The due instant pushed back by the clock time spent on hold (the clock was paused)."""
        return self.sla_add(policy, due, max(0.0, self.sla_elapsed(policy, held_from, held_to)))

    def fraction_used(self, policy: SlaPolicy, due: datetime, now: datetime) -> float:
        """Share of the SLA used at ``now``: 0.75 is the warning point, 1.0 the breach."""
        total = self.sla_seconds(policy)
        return 1.0 - self.sla_elapsed(policy, now, due) / total if total > 0 else 1.0


# ---- escalation stages ----------------------------------------------------------------------
WARN_AT = 0.75


def stage_threshold(stage: int) -> float:
    """Fraction of the SLA at which ``stage`` is reached: 1 warn (75%), 2 breach, then +50% each."""
    if stage <= 0:
        return 0.0
    return WARN_AT if stage == 1 else 1.0 + 0.5 * (stage - 2)


def stage_for(fraction: float) -> int:
    """The escalation stage for a used fraction of the SLA."""
    if fraction < WARN_AT:
        return 0
    if fraction < 1.0:
        return 1
    return 2 + int((fraction - 1.0) / 0.5)


def next_check_at(cal: BusinessCalendar, policy: SlaPolicy, due: datetime, stage: int) -> datetime:
    """When the ticket, now at ``stage``, reaches the next stage (clock running)."""
    total = cal.sla_seconds(policy)
    remaining = (1.0 - stage_threshold(stage + 1)) * total
    return cal.sla_add(policy, due, -remaining)


# ---- holidays -------------------------------------------------------------------------------
def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    d = date(year, month, 1)
    d += timedelta(days=(weekday - d.weekday()) % 7)
    return d + timedelta(weeks=n - 1)


def _last_weekday(year: int, month: int, weekday: int) -> date:
    d = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return d - timedelta(days=(d.weekday() - weekday) % 7)


def _observed(d: date) -> date:
    if d.weekday() == 5:
        return d - timedelta(days=1)
    if d.weekday() == 6:
        return d + timedelta(days=1)
    return d


def us_federal_holidays(year: int) -> dict[date, str]:
    """US federal holidays of ``year`` on their observed dates (the default city calendar)."""
    days = {
        _observed(date(year, 1, 1)): "New Year's Day",
        _nth_weekday(year, 1, 0, 3): "Martin Luther King Jr. Day",
        _nth_weekday(year, 2, 0, 3): "Washington's Birthday",
        _last_weekday(year, 5, 0): "Memorial Day",
        _observed(date(year, 6, 19)): "Juneteenth",
        _observed(date(year, 7, 4)): "Independence Day",
        _nth_weekday(year, 9, 0, 1): "Labor Day",
        _nth_weekday(year, 10, 0, 2): "Columbus Day",
        _observed(date(year, 11, 11)): "Veterans Day",
        _nth_weekday(year, 11, 3, 4): "Thanksgiving Day",
        _observed(date(year, 12, 25)): "Christmas Day",
    }
    return days


def city_holidays(years: range, extra: frozenset[date] = frozenset()) -> frozenset[date]:
    """Federal holidays over ``years`` plus the city's own closure days."""
    out: set[date] = set(extra)
    for y in years:
        out.update(us_federal_holidays(y))
    return frozenset(out)
