"""Plan a queue from its own call records: history -> forecast -> staffing (-> schedule),
stored for the manager pages; and how past forecasts compare with what then happened."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation.db import Database
from foundation.settings import Settings
from workforce import models, queries
from workforce.erlang import Targets, scheduled_heads
from workforce.forecast import make_forecast, wape_bias
from workforce.history import HistoryError, build, from_call_records
from workforce.schedule import ShiftTemplate, optimize
from workforce.staffing import staff

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlanOptions:
    """How a queue is planned: interval, history and horizon, targets (shares, seconds)."""

    interval_minutes: int = 30
    history_weeks: int = 8
    horizon_days: int = 14
    target_sl: float = 0.8
    answer_s: float | None = None  # default: the queue's own service-level threshold
    default_aht_s: float = 180.0
    patience_s: float | None = None
    shrinkage: str = "0.3"
    max_occupancy: str | None = "0.9"

    def __post_init__(self) -> None:
        if self.interval_minutes <= 0 or (24 * 60) % self.interval_minutes:
            raise ValueError("interval minutes must divide a day (e.g. 15, 30, 60)")
        Targets(self.target_sl, 20.0 if self.answer_s is None else self.answer_s, None,
                self.max_occupancy)  # raises on a target no staffing can meet
        scheduled_heads(0, self.shrinkage)  # raises on a shrinkage outside [0, 1)
        if not (math.isfinite(self.default_aht_s) and self.default_aht_s > 0):
            raise ValueError("AHT must be a number of seconds > 0")
        if self.patience_s is not None and not (math.isfinite(self.patience_s)
                                                and self.patience_s > 0):
            raise ValueError("patience must be a number of seconds > 0")
        if self.history_weeks < 1 or self.horizon_days < 1:
            raise ValueError("history weeks and horizon days must be at least 1")


def plan_queue(settings: Settings, db: Database, queue: str, now: datetime,
               options: PlanOptions | None = None,
               templates: list[ShiftTemplate] | None = None) -> int | None:
    """Forecast and staff ``queue`` from its call records up to today's midnight (city time),
    its stored special days left out of training or overriding the forecast; returns the
    stored forecast id, or None when the queue has no history yet."""
    o = options or PlanOptions()
    tz = ZoneInfo(settings.timezone)
    today = datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz)
    start = today - timedelta(weeks=o.history_weeks)
    with db.session() as s:
        records = queries.call_history(s, queue, start, today)
        special = queries.special_days(s, queue)
    if not records:
        log.info("wfm: no call records for queue %s yet; nothing to plan", queue)
        return None
    try:
        history = build(from_call_records(records, o.interval_minutes, start, today),
                        o.interval_minutes, tz, special)
        fc = make_forecast(history, o.horizon_days, special=special)
    except (HistoryError, ValueError) as exc:
        log.warning("wfm: cannot forecast queue %s: %s", queue, exc)
        return None
    rows = fc.rows()
    answer_s = o.answer_s if o.answer_s is not None else answer_threshold(settings, queue)
    targets = Targets(o.target_sl, answer_s, None, o.max_occupancy)
    ahts = [aht if aht and aht > 0 else o.default_aht_s for _, _, aht in rows]
    staffing = staff([c for _, c, _ in rows], ahts, o.interval_minutes, targets, o.patience_s,
                     o.shrinkage)
    label = (f"{o.target_sl:.0%} in {answer_s:g} s, shrinkage {o.shrinkage}"
             + (f", patience {o.patience_s:g} s" if o.patience_s else ""))
    with db.session() as s:
        record = queries.save_forecast(s, queue, fc, staffing, label)
        if templates and rows:
            plan = optimize([r[0] for r in rows], [st.scheduled for st in staffing],
                            o.interval_minutes, templates, tz)
            queries.save_schedule(s, record.id, plan)
        return record.id


def answer_threshold(settings: Settings, queue: str) -> float:
    """The queue's own service-level threshold in seconds (20 when not configured)."""
    return float(next((q.sl_threshold_s for q in settings.queues if q.name == queue), 20))


def planned_today(session: Session, queue: str, now: datetime, tz: ZoneInfo) -> bool:
    """Whether a forecast for the queue was already made today (city time)."""
    since = datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz)
    q = select(models.WfmForecast.id).where(models.WfmForecast.queue == queue,
                                           models.WfmForecast.created_at >= since)
    return session.scalars(q.limit(1)).first() is not None


@dataclass(frozen=True)
class Comparison:
    """A stored forecast next to the calls that arrived (NaN = still in the future)."""

    starts: list[datetime]
    forecast: np.ndarray
    actual: np.ndarray
    wape: float
    bias: float
    intervals: int


def compare(session: Session, forecast: models.WfmForecast, now: datetime) -> Comparison:
    """Forecast vs actual offered calls per interval, and the WAPE/bias over elapsed ones."""
    starts = [i.interval_start for i in forecast.intervals]
    predicted = np.array([i.calls for i in forecast.intervals], dtype=float)
    actual = np.full(len(starts), np.nan)
    if starts and starts[0] < now:
        step = timedelta(minutes=forecast.interval_minutes)
        end = min(now, starts[-1] + step)
        # bucket on the forecast's own interval starts (a UTC grid would be off by half an
        # hour for hourly intervals in zones such as St. John's, UTC-3:30)
        position = {st: k for k, st in enumerate(starts)}
        counts = np.zeros(len(starts))
        for entered_at in queries.arrivals(session, forecast.queue, starts[0], end):
            k = position.get(starts[0] + (entered_at - starts[0]) // step * step)
            if k is not None:
                counts[k] += 1
        elapsed = np.array([st + step <= now for st in starts])
        actual[elapsed] = counts[elapsed]
    wape, bias, cells, _ = wape_bias(actual, predicted)
    return Comparison(starts, predicted, actual, wape, bias, cells)
