"""PostgreSQL restarted while calls and notices flow (issue #14 item 7a): the daemon's
batches fail while it is down and queue_log fills the gap once it is back, so every call
that queued is recorded once, equal to queue_log; the notification job stops its batch,
lets its claims go, resumes, and every notice reaches the resident exactly once, the one
acknowledged by the mail server while the database was down included.

The database is a private PostgreSQL of this test (``tests/support/private_pg.py``): the
shared server is never restarted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from center import schema
from crm_bridge.config import CrmConfig, make_calendar
from crm_bridge.models import Notification
from crm_bridge.notify.delivery import deliver_pending
from crm_bridge.seed import seed_catalog
from crm_bridge.tickets import service
from crm_bridge.tickets.draft import TicketDraft
from foundation.db import Database
from tests.integration.crm_bridge.conftest import Inbox
from tests.support.pbx import Pbx, start_daemon, wait_until
from tests.support.private_pg import PrivatePostgres
from tests.support.records import differences
from tests.support.truth import truth

pytestmark = pytest.mark.asterisk

CALLS = 10
TICKETS = 8
DOWN_S = 3.0  # how long PostgreSQL stays down


@pytest.fixture
def private_pg(tmp_path: Path) -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres(tmp_path / "pg")
    pg.init()
    pg.start()
    try:
        yield pg
    finally:
        pg.remove()


def open_tickets(db: Database, first: int, count: int) -> None:
    cfg = CrmConfig(calendar=make_calendar(around=2026), reopen_window_days=7,
                    public_base_url="http://311.civic.example", secret_key="test-secret")
    with db.session() as s:
        for i in range(first, first + count):
            service.open_ticket(s, TicketDraft("streetlight-out", address=f"{i} Oak Ave",
                                               email=f"resident{i}@example.org"), config=cfg)


def test_postgres_restarted_under_calls_and_notices(clean_pbx: Pbx, private_pg: PrivatePostgres,
                                                    settings: Any, tmp_path: Path) -> None:
    db = Database(private_pg.create_database("civic311"))
    schema.upgrade(db)
    with db.session() as s:
        seed_catalog(s, None)
    outage = threading.Event()
    back = threading.Event()

    def restart_later() -> None:
        time.sleep(DOWN_S)
        private_pg.start()
        back.set()

    def on_message(n: int) -> None:
        if n == 3:  # the third notice is sent, and the database goes before it is recorded
            private_pg.stop()
            outage.set()
            threading.Thread(target=restart_later, daemon=True).start()

    inbox = Inbox(on_message)
    inbox.start()
    settings.smtp_host, settings.smtp_port = "127.0.0.1", inbox.port
    stop_worker = threading.Event()
    job_errors: list[str] = []

    def worker() -> None:  # what APScheduler does with the job: run it again, log a failure
        while not stop_worker.wait(0.3):
            try:
                deliver_pending(db, settings)
            except Exception as exc:
                job_errors.append(repr(exc))

    clean_pbx.add_agent("100", ["citywide"], ring_ms=300, talk_ms=1500)
    clean_pbx.add_agent("101", ["citywide"], ring_ms=300, talk_ms=1500)
    daemon = start_daemon(clean_pbx, db.url, tmp_path / "daemon.log")
    job = threading.Thread(target=worker, daemon=True)
    try:
        callers = clean_pbx.call(calls=CALLS, rate=2, hold_ms=20000)
        open_tickets(db, 0, TICKETS // 2)
        wait_until(lambda: clean_pbx.queue_log_events().count("ENTERQUEUE") >= 2, 20,
                   what="calls to flow")
        job.start()
        assert outage.wait(30), "the notices were never sent"
        assert back.wait(30)
        open_tickets(db, TICKETS // 2, TICKETS // 2)  # and more come in once it is back
        assert callers.wait(120).failed == 0
        expected = wait_until(lambda: (t := truth(clean_pbx.queue_log)) and len(t) == CALLS
                              and all(c["outcome"] for c in t.values()) and t, 30,
                              what="every call to finish")
        try:
            wait_until(lambda: not differences(db, expected), 30, what="records = queue_log")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {differences(db, expected)}; daemon log:\n"
                                 f"{(tmp_path / 'daemon.log').read_text()[-3000:]}") from None

        def all_sent() -> bool:
            with db.session() as s:
                return s.scalar(select(func.count(Notification.id)).where(
                    Notification.status == "sent")) == TICKETS
        wait_until(all_sent, 30, what="every notice sent")
        stop_worker.set()
        job.join(10)
        assert daemon.proc.poll() is None, "the daemon died with the database"
    finally:
        stop_worker.set()
        daemon.stop()
        inbox.stop()
    counts = {f"resident{i}@example.org": len(inbox.to(f"resident{i}@example.org"))
              for i in range(TICKETS)}
    assert counts == dict.fromkeys(counts, 1), counts  # each notice exactly once
    assert len(inbox.messages) == TICKETS
    daemon_log = (tmp_path / "daemon.log").read_text()
    assert "could not apply" in daemon_log or "reconciliation" in daemon_log, \
        "the outage never reached the daemon: the test did not test it"
    db.dispose()
