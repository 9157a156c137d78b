"""Repository functions: forecasts (with their staffing), schedules, special days, and the
call-record history queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd import calls as acd_calls
from foundation.db import utcnow
from workforce.forecast import Forecast
from workforce.history import SpecialDay
from workforce.models import (
    NOTE_LEN,
    WfmCoverage,
    WfmForecast,
    WfmForecastInterval,
    WfmSchedule,
    WfmShift,
    WfmSpecialDay,
)
from workforce.schedule import Schedule
from workforce.staffing import Staffing


def special_days(session: Session, queue: str | None = None) -> list[SpecialDay]:
    """Special days of one queue (its own and those of every queue; its own win), or all."""
    q = select(WfmSpecialDay).order_by(WfmSpecialDay.day, WfmSpecialDay.queue)
    if queue is not None:
        q = q.where(WfmSpecialDay.queue.in_(["", queue]))
    by_day: dict[tuple[str, date], SpecialDay] = {}
    for r in session.scalars(q):
        key = ("" if queue is not None else r.queue, r.day)
        if r.queue or key not in by_day:
            by_day[key] = SpecialDay(r.day, r.kind, r.factor, r.note)
    return list(by_day.values())


def special_day_rows(session: Session) -> list[WfmSpecialDay]:
    """Every stored special day, by date then queue."""
    return list(session.scalars(select(WfmSpecialDay).order_by(WfmSpecialDay.day,
                                                               WfmSpecialDay.queue)))


def put_special_days(session: Session, days: Iterable[SpecialDay], queue: str = "") -> int:
    """Add or replace special days for one queue ("" = every queue); returns how many."""
    n = 0
    for sd in days:
        row = session.scalars(select(WfmSpecialDay).where(
            WfmSpecialDay.queue == queue, WfmSpecialDay.day == sd.day)).first()
        if row is None:
            row = WfmSpecialDay(queue=queue, day=sd.day)
            session.add(row)
        row.kind, row.factor, row.note = sd.kind, sd.factor, sd.note[:NOTE_LEN]
        n += 1
    session.flush()
    return n


def remove_special_day(session: Session, day: date, queue: str = "") -> bool:
    """Forget one special day; False when there was none."""
    row = session.scalars(select(WfmSpecialDay).where(
        WfmSpecialDay.queue == queue, WfmSpecialDay.day == day)).first()
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def call_history(session: Session, queue: str | None, start: datetime, end: datetime
                 ) -> list[tuple[datetime, str | None, float | None, float, float | None]]:
    """(entered_at, outcome, talk_s, acw_s, hold_s) of calls queued in [start, end)."""
    return acd_calls.history(session, queue, start, end)


def arrivals(session: Session, queue: str, start: datetime, end: datetime) -> list[datetime]:
    """When each call offered to ``queue`` in [start, end) entered it (one column: cheap)."""
    return acd_calls.arrivals(session, queue, start, end)


def save_forecast(session: Session, queue: str, fc: Forecast,
                  staffing: Sequence[Staffing] | None = None, targets: str = "") -> WfmForecast:
    """Store a forecast and (optionally) the staffing computed from it."""
    rows = fc.rows()
    chosen = fc.chosen_accuracy()
    record = WfmForecast(queue=queue, method=fc.method, interval_minutes=fc.interval_minutes,
                         starts_at=rows[0][0] if rows else utcnow(),
                         ends_at=rows[-1][0] if rows else utcnow(),
                         backtest_wape=chosen.wape if chosen else None,
                         backtest_bias=chosen.bias if chosen else None, targets=targets)
    for k, (start, calls, aht) in enumerate(rows):
        st = staffing[k] if staffing else None
        record.intervals.append(WfmForecastInterval(
            interval_start=start, calls=calls, aht_s=aht, agents=st.agents if st else None,
            scheduled=st.scheduled if st else None,
            service_level=st.service_level if st else None))
    session.add(record)
    session.flush()
    return record


def save_schedule(session: Session, forecast_id: int, schedule: Schedule) -> WfmSchedule:
    """Store a schedule's shifts and its coverage per interval."""
    record = WfmSchedule(forecast_id=forecast_id, status=schedule.status,
                         paid_hours=schedule.paid_hours)
    for s in schedule.shifts:
        breaks = ";".join(f"{a.strftime('%H:%M')}-{b.strftime('%H:%M')}" for a, b in s.breaks)
        record.shifts.append(WfmShift(template=s.template, starts_at=s.start, ends_at=s.end,
                                      breaks=breaks, agents=s.agents, paid_hours=s.paid_hours))
    for start, need, have in zip(schedule.interval_starts, schedule.required,
                                 schedule.scheduled, strict=True):
        record.coverage.append(WfmCoverage(interval_start=start, required=need, scheduled=have))
    session.add(record)
    session.flush()
    return record


def forecasts(session: Session, queue: str | None = None, limit: int = 50) -> list[WfmForecast]:
    """The newest forecasts first."""
    q = select(WfmForecast).order_by(WfmForecast.created_at.desc(), WfmForecast.id.desc())
    if queue:
        q = q.where(WfmForecast.queue == queue)
    return list(session.scalars(q.limit(limit)))


def latest_schedule(session: Session, forecast_id: int) -> WfmSchedule | None:
    return session.scalars(select(WfmSchedule).where(WfmSchedule.forecast_id == forecast_id)
                           .order_by(WfmSchedule.id.desc()).limit(1)).first()
