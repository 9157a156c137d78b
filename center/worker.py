"""The worker: the only process that runs APScheduler.

Each capability lists its jobs in a ``jobs(settings, db)`` function that returns
``foundation.jobs.Job`` values; every job is idempotent and scheduled with one id,
``max_instances=1`` and ``coalesce=True``, so a restart or an overrun never doubles work.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler

import acd.counters
import acd.erasure_jobs
import acd.rollup
import acd.twilio_acd.dispatch_jobs
import crm_bridge.erasure_jobs
import crm_bridge.jobs
import ivr.callback.twilio_jobs
import ivr.erasure_jobs
import recordings.jobs
import workforce.jobs
from foundation.db import Database
from foundation.erasure import ErasureRun
from foundation.heartbeat import beat
from foundation.jobs import Job
from foundation.settings import Settings

log = logging.getLogger(__name__)

# Each capability's ``jobs(settings, db) -> list[Job]``, named explicitly.
JOB_SOURCES: tuple[Callable[[Settings, Database], list[Job]], ...] = (
    workforce.jobs.jobs, crm_bridge.jobs.jobs, acd.rollup.jobs, acd.counters.jobs,
    recordings.jobs.jobs, ivr.callback.twilio_jobs.jobs, acd.twilio_acd.dispatch_jobs.jobs,
    acd.erasure_jobs.jobs, ivr.erasure_jobs.jobs, crm_bridge.erasure_jobs.jobs,
)

# Each capability's erasure of personal data past its retention, ``erase(settings, db, now)``
# (what the jobs above run hourly, and what ``civic311 privacy erase`` runs once).
ERASURES: tuple[Callable[[Settings, Database, datetime], dict[str, ErasureRun]], ...] = (
    acd.erasure_jobs.erase, ivr.erasure_jobs.erase, crm_bridge.erasure_jobs.erase,
)


def collect_jobs(settings: Settings, db: Database) -> list[Job]:
    return [job for source in JOB_SOURCES for job in source(settings, db)]


def build_scheduler(settings: Settings, db: Database) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    for job in collect_jobs(settings, db):
        scheduler.add_job(job.func, "interval", seconds=job.seconds, id=job.id,
                          replace_existing=True, max_instances=1, coalesce=True, **job.kwargs)

    def heartbeat() -> None:
        with db.session() as s:
            beat(s, "worker", True, jobs=len(scheduler.get_jobs()) - 1)

    scheduler.add_job(heartbeat, "interval", seconds=5, id="worker.heartbeat",
                      replace_existing=True, max_instances=1, coalesce=True)
    return scheduler


def run_worker(settings: Settings) -> None:
    db = Database(settings.db_url)
    scheduler = build_scheduler(settings, db)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    scheduler.start()
    log.info("worker started with %d jobs", len(scheduler.get_jobs()))
    try:
        with db.session() as s:
            beat(s, "worker", True, jobs=len(scheduler.get_jobs()) - 1)
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)
        with db.session() as s:
            beat(s, "worker", False, stopped=True)
        db.dispose()
        log.info("worker stopped")
