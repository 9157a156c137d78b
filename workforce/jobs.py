"""Worker job: forecast and staff every queue once a day from its own call records."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from foundation.db import Database, utcnow
from foundation.jobs import Job
from foundation.settings import Settings
from workforce.planning import plan_queue, planned_today

log = logging.getLogger(__name__)


def daily_forecasts(settings: Settings, db: Database) -> int:
    """Plan each queue not yet planned today; idempotent (returns how many were planned)."""
    now, tz, done = utcnow(), ZoneInfo(settings.timezone), 0
    for queue in settings.queue_names():
        with db.session() as s:
            if planned_today(s, queue, now, tz):
                continue
        if plan_queue(settings, db, queue, now) is not None:
            done += 1
            log.info("wfm: forecast and staffing stored for queue %s", queue)
    return done


def jobs(settings: Settings, db: Database) -> list[Job]:
    return [Job("wfm.daily_forecasts", lambda: daily_forecasts(settings, db), seconds=3600)]
