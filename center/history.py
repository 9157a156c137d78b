"""The demo city's past: months of calls, tickets, QA and a forecast with a schedule, so every
page shows what it is for on first look (``civic311 seed demo``; the report tests and the
benchmark use the same generator).

Each capability makes its own part (``acd.history``, ``crm_bridge.history``,
``recordings.history``); this module passes one's output to the next and finishes with the
workforce plan and the interval rollups over the period. The history ends at the city's
midnight this morning: today belongs to the live system.

Idempotent: each part is written once, recognised by its marker (calls with source
"history", tickets with source_client "history", evaluations by the ``qa`` user); running
it again writes nothing new (a forecast is made only when none exists for the queue).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from acd import history as calls_history
from acd import history_store, rollup
from crm_bridge import history as tickets_history
from crm_bridge.config import CrmConfig, from_settings, make_calendar
from foundation.db import Database, utcnow
from foundation.settings import Settings
from recordings import history as qa_history
from recordings.catalog import Paths
from workforce import models as wfm_models
from workforce.planning import PlanOptions, plan_queue
from workforce.schedule import Break, ShiftTemplate, every

log = logging.getLogger(__name__)

GENERAL_SHARE = 0.5  # of the calls on the general line; the rest spread over agency lines
SHIFTS = [ShiftTemplate("day", 510, every(time(7), time(14), 30),
                        (Break(30, 180, 300), Break(15, 90, 150), Break(15, 360, 420)))]


@dataclass(frozen=True)
class HistoryOptions:
    """How much past: ``months`` (of 30.4 days), ``volume`` calls on an average weekday,
    ``tickets_per_day`` service requests, and the seed (same seed, same past)."""

    months: float = 3.0
    volume: float = 500.0
    tickets_per_day: float = 20.0
    seed: int = 311
    plan: bool = True  # a forecast, staffing and a schedule for the general line

    def __post_init__(self) -> None:
        if not 0 < self.months <= 36:
            raise ValueError("months must be above 0 and at most 36")
        if not 0 <= self.volume <= 100_000 or not 0 <= self.tickets_per_day <= 10_000:
            raise ValueError("volume and tickets per day must be at least 0 (and sane)")


def crm_config(settings: Settings) -> CrmConfig:
    """The CRM's config; without a secret key too (the history signs no reopen link)."""
    if settings.secret_key:
        return from_settings(settings)
    # residents of the made-up past leave no e-mail, so no reopen link is ever signed
    return CrmConfig(calendar=make_calendar(settings.timezone, settings.business_hours,
                                            settings.city_holidays),
                     city_name=settings.city_name,
                     reopen_window_days=settings.reopen_window_days,
                     min_resolution_chars=settings.min_resolution_chars)


def seed_history(settings: Settings, db: Database,
                 options: HistoryOptions | None = None) -> Iterator[str]:
    """Write the past (each part once); yields one line per part."""
    o = options or HistoryOptions()
    tz = ZoneInfo(settings.timezone)
    now = utcnow()
    end_day = now.astimezone(tz).date()
    days = max(1, round(o.months * 30.4))
    first_day = end_day - timedelta(days=days)
    start = datetime.combine(first_day, time(0), tzinfo=tz)
    end = datetime.combine(end_day, time(0), tzinfo=tz)
    queues = [calls_history.QueueMix(q.name, GENERAL_SHARE if i == 0 else
                                     (1 - GENERAL_SHARE) / max(1, len(settings.queues) - 1),
                                     q.timeout_s, q.wrapup_s)
              for i, q in enumerate(settings.queues)]
    with db.session() as s:
        stored = history_store.period(s)
    if stored is None:
        made = calls_history.generate(first_day, days, tz, queues, settings.agent_extensions,
                                      o.volume, o.seed)
        with db.session() as s:
            n = history_store.write(s, made)
        yield f"history: {n} calls over {days} days ({first_day} to {end_day - timedelta(1)})"
        rollup.rollup(db, start, now + timedelta(minutes=rollup.BASE_MINUTES),
                      settings.sl_thresholds_s, settings.short_abandon_s, settings.timezone)
        yield "history: interval rollups rebuilt for the period"
    else:
        start = stored[0]
        end = min(end, datetime.combine(stored[1].astimezone(tz).date() + timedelta(1),
                                        time(0), tzinfo=tz))
        yield f"history: calls from {stored[0].astimezone(tz):%Y-%m-%d} to " \
              f"{stored[1].astimezone(tz):%Y-%m-%d} already stored"
    with db.session() as s:
        if tickets_history.present(s):
            yield "history: tickets already stored"
        else:
            linked = tickets_history.generate(
                s, crm_config(settings), start, end, history_store.service_request_calls(s),
                o.tickets_per_day, o.seed, now)
            history_store.link_tickets(s, linked)
            yield f"history: {tickets_history.present(s)} tickets in every state " \
                  f"({len(linked)} opened on calls)"
    with db.session() as s:
        if qa_history.present(s):
            yield "history: QA evaluations already stored"
        else:
            paths = Paths(settings.data_dir, spool_dir=settings.data_dir)  # no spool is read
            done = qa_history.generate(s, paths,
                                       settings.timezone, now, history_store.answered(s),
                                       o.seed, survey_queues=[q.name for q in settings.queues
                                                              if q.survey],
                                       evaluators=["supervisor"])
            yield f"history: {done} QA evaluations of sampled calls"
    if o.plan:
        yield from _plan(settings, db, now)


def _plan(settings: Settings, db: Database, now: datetime) -> Iterator[str]:
    """A forecast with staffing and a schedule for the general line (the worker's daily job
    plans the other queues on its first run: each forecast's backtest takes seconds)."""
    queue = settings.queue_names()[0]
    with db.session() as s:
        if s.scalar(select(wfm_models.WfmForecast.id)
                    .where(wfm_models.WfmForecast.queue == queue).limit(1)) is not None:
            yield f"workforce: a forecast for queue {queue} already stored"
            return
    fid = plan_queue(settings, db, queue, now, PlanOptions(horizon_days=7), SHIFTS)
    if fid is not None:
        yield f"workforce: forecast {fid} with staffing and a schedule for queue {queue}"
