"""The worker: the only process that runs APScheduler.

Several workers may run against one database; the one holding the worker lock
(``foundation.leader``) is active and runs the scheduler, the others stand by and take over
within ``worker_lock_retry_s`` of its end. Each capability lists its jobs in a
``jobs(settings, db)`` function that returns ``foundation.jobs.Job`` values; every job is
idempotent and scheduled with one id, ``max_instances=1`` and ``coalesce=True``, so a
restart or an overrun never doubles work.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session

import acd.counters
import acd.erasure_jobs
import acd.node_lost
import acd.rollup
import acd.twilio_acd.dispatch_jobs
import acd.twilio_acd.reconcile_jobs
import crm_bridge.erasure_jobs
import crm_bridge.jobs
import foundation.twilio_deletions
import ivr.callback.twilio_jobs
import ivr.erasure_jobs
import recordings.jobs
import workforce.jobs
from crm_bridge.mail_in.smtp_listener import Listener
from foundation.db import Database
from foundation.erasure import ErasureRun
from foundation.heartbeat import beat, forget
from foundation.jobs import Job
from foundation.leader import Lock, lead, lock_for
from foundation.settings import Settings

log = logging.getLogger(__name__)

HEARTBEAT_S = 5

# Each capability's ``jobs(settings, db) -> list[Job]``, named explicitly.
JOB_SOURCES: tuple[Callable[[Settings, Database], list[Job]], ...] = (
    workforce.jobs.jobs, crm_bridge.jobs.jobs, acd.rollup.jobs, acd.counters.jobs,
    recordings.jobs.jobs, ivr.callback.twilio_jobs.jobs, acd.twilio_acd.dispatch_jobs.jobs,
    acd.twilio_acd.reconcile_jobs.jobs, acd.node_lost.jobs,
    acd.erasure_jobs.jobs, ivr.erasure_jobs.jobs, crm_bridge.erasure_jobs.jobs,
    foundation.twilio_deletions.jobs,
)

# Each capability's erasure of personal data past its retention, ``erase(settings, db, now)``
# (what the jobs above run hourly, and what ``civic311 privacy erase`` runs once).
ERASURES: tuple[Callable[[Settings, Database, datetime], dict[str, ErasureRun]], ...] = (
    acd.erasure_jobs.erase, ivr.erasure_jobs.erase, crm_bridge.erasure_jobs.erase,
)


def collect_jobs(settings: Settings, db: Database) -> list[Job]:
    return [job for source in JOB_SOURCES for job in source(settings, db)]


def guarded(job_id: str, func: Callable[[], Any], may_run: Callable[[], bool]) -> Callable[[], Any]:
    """``func``, run only while ``may_run()``: a job due just as the lock was lost is skipped."""

    def run() -> Any:
        if not may_run():
            log.warning("job %s not run: this worker lost its lock", job_id)
            return None
        log.debug("job %s runs", job_id)
        return func()

    return run


def build_scheduler(settings: Settings, db: Database,
                    may_run: Callable[[], bool] = lambda: True,
                    **identity: Any) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    for job in collect_jobs(settings, db):
        scheduler.add_job(guarded(job.id, job.func, may_run), "interval", seconds=job.seconds,
                          id=job.id, replace_existing=True, max_instances=1, coalesce=True,
                          **job.kwargs)

    def heartbeat() -> None:
        with db.session() as s:
            beat(s, "worker", True, jobs=len(scheduler.get_jobs()) - 1, **identity)

    scheduler.add_job(guarded("worker.heartbeat", heartbeat, may_run), "interval",
                      seconds=HEARTBEAT_S, id="worker.heartbeat", replace_existing=True,
                      max_instances=1, coalesce=True)
    return scheduler


class SchedulerDuty:
    """What the worker holding the lock does: a fresh scheduler each time it becomes active.
    The ``worker`` heartbeat is the active worker's; each standby beats a row of its own."""

    def __init__(self, settings: Settings, db: Database, lock: Lock) -> None:
        self.settings, self.db, self.lock = settings, db, lock
        self.identity = {"node": settings.node_name, "pid": os.getpid()}
        self.standby_row = f"worker~{os.getpid()}@{settings.node_name}"[:32]
        self.scheduler: BackgroundScheduler | None = None
        self.mail_listener: Listener | None = None  # e-mail in by SMTP (mail_in = "smtp")
        self.standing_by = False
        self.next_standby_beat = 0.0

    def begin(self) -> None:
        log.info("worker active (pid %d on %s)", os.getpid(), self.settings.node_name)
        self.standing_by = False
        self.scheduler = build_scheduler(self.settings, self.db, self.lock.held,
                                         role="active", **self.identity)
        self.scheduler.start()
        if self.settings.mail_in == "smtp":  # one listener: the active worker's
            self.mail_listener = self._listen()
        log.info("worker started with %d jobs", len(self.scheduler.get_jobs()))
        jobs = len(self.scheduler.get_jobs()) - 1

        def now_active(s: Session) -> None:
            forget(s, self.standby_row)
            beat(s, "worker", True, jobs=jobs, role="active", **self.identity)

        self._write(now_active)

    def _listen(self) -> Listener | None:
        """The e-mail-in listener, started; a port it cannot bind is logged, and the jobs
        (SLA, notices, outbox) still run: mail waits at the sender's server meanwhile."""
        listener = Listener(self.settings, self.db)
        try:
            listener.start()
        except (OSError, RuntimeError) as exc:
            log.error("mail in: cannot listen on %s:%s: %s", self.settings.mail_in_host,
                      self.settings.mail_in_port, exc)
            return None
        return listener

    def end(self, lost: bool) -> None:
        assert self.scheduler is not None
        if lost:
            self.scheduler.pause()  # no job starts from here on
            log.warning("worker lost its lock: scheduler stopped")
        self.scheduler.shutdown(wait=True)  # the jobs already running finish
        self.scheduler = None
        if self.mail_listener is not None:
            self.mail_listener.stop()
            self.mail_listener = None
        if not lost:
            self._write(lambda s: beat(s, "worker", False, stopped=True, **self.identity))

    def standby(self) -> None:
        if not self.standing_by:
            log.info("worker standby (pid %d on %s): waiting for the worker lock",
                     os.getpid(), self.settings.node_name)
            self.standing_by = True
        if time.monotonic() >= self.next_standby_beat:
            self.next_standby_beat = time.monotonic() + HEARTBEAT_S
            self._write(lambda s: beat(s, self.standby_row, True, role="standby",
                                       **self.identity))

    def leave(self) -> None:
        """On the way out: a standby's row goes with it."""
        self._write(lambda s: forget(s, self.standby_row))

    def _write(self, write: Callable[[Session], None]) -> None:
        """A heartbeat is news, not a duty: a database that is down only delays the next."""
        try:
            with self.db.session() as s:
                write(s)
        except Exception as exc:
            log.warning("worker heartbeat not written: %s", str(exc).splitlines()[0])


def run_worker(settings: Settings) -> None:
    db = Database(settings.db_url)
    lock = lock_for(settings.db_url)
    duty = SchedulerDuty(settings, db, lock)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        lead(lock, duty, stop, settings.worker_lock_retry_s)
    finally:
        duty.leave()
        db.dispose()
        log.info("worker stopped")
