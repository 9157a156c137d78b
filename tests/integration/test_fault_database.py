"""PostgreSQL restarted while calls, notices and tickets flow (issue #14 item 7a): the
daemon's batches fail while it is down and queue_log fills the gap once it is back, so every
call that queued is recorded once, equal to queue_log; the notification and outbox jobs stop
their batch, let their claims go, resume, and every notice reaches the resident exactly once
and every ticket the external CRM (a second civic311 on a real HTTP server) exactly once,
the ones acknowledged while the database was down included (each outage is started by the
mail server or the remote as it receives, before it answers).

The database is a private PostgreSQL of this test (``tests/support/private_pg.py``): the
shared server is never restarted.
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from center import schema
from crm_bridge.config import CrmConfig, make_calendar
from crm_bridge.models import Agency, Notification, OutboxItem, Ticket
from crm_bridge.notify.delivery import deliver_pending
from crm_bridge.open311.apikeys import create_key
from crm_bridge.outbox.delivery import process_outbox
from crm_bridge.outbox.senders import Open311Sender
from crm_bridge.seed import seed_catalog
from crm_bridge.tickets import service
from crm_bridge.tickets.draft import TicketDraft
from foundation.db import Database
from foundation.settings import load_settings
from tests.integration.crm_bridge.conftest import Inbox
from tests.support.fake_remote import serve
from tests.support.pbx import Pbx, start_daemon, wait_until
from tests.support.private_pg import PrivatePostgres
from tests.support.records import differences
from tests.support.truth import truth

pytestmark = pytest.mark.asterisk

CALLS = 10
TICKETS = 8
DOWN_S = 3.0  # how long PostgreSQL stays down


def open_tickets(db: Database, first: int, count: int) -> None:
    """Rodent reports (routed to DOHMH, whose CRM is the remote), each with a resident's
    e-mail (a notice)."""
    cfg = CrmConfig(calendar=make_calendar(around=2026), reopen_window_days=7,
                    public_base_url="http://311.civic.example", secret_key="test-secret")
    with db.session() as s:
        for i in range(first, first + count):
            service.open_ticket(s, TicketDraft(
                "rodents", attributes={"where": "street"}, address=f"{i} Oak Ave",
                description=f"rats {i}", email=f"resident{i}@example.org"), config=cfg)


def remote_crm(tmp_path: Path) -> tuple[Any, Database, str]:
    """Another civic311 (its own SQLite database) whose Open311 API takes our tickets."""
    from center.web import create_app

    db = Database(f"sqlite:///{tmp_path / 'remote.db'}")
    schema.upgrade(db)
    with db.session() as s:
        seed_catalog(s, None)
        key = create_key(s, "civic-city-311")
    settings = load_settings(data_dir=str(tmp_path / "remote-data"), database_url=db.url)
    return create_app(settings, db), db, key


class Outages:
    """Each trigger stops PostgreSQL once (if it is up) and starts it ``DOWN_S`` later."""

    def __init__(self, pg: PrivatePostgres) -> None:
        self.pg, self.lock, self.fired = pg, threading.Lock(), set[str]()
        self.down = threading.Event()
        self.starts: list[threading.Thread] = []

    def trigger(self, who: str) -> None:
        with self.lock:
            if who in self.fired or self.down.is_set():
                return
            self.fired.add(who)
            self.down.set()  # before the stop begins: ``over`` is false from here
            self.pg.stop()
            start = threading.Thread(target=self._start_later, daemon=True)
            self.starts.append(start)
            start.start()

    def _start_later(self) -> None:
        time.sleep(DOWN_S)
        with self.lock:
            self.pg.start()
            self.down.clear()

    def over(self) -> bool:
        return not self.down.is_set() and all(not t.is_alive() for t in self.starts)


def test_postgres_restarted_under_calls_notices_and_tickets(
        clean_pbx: Pbx, private_pg: PrivatePostgres, settings: Any, tmp_path: Path) -> None:
    db = Database(private_pg.create_database("civic311"))
    schema.upgrade(db)
    with db.session() as s:
        seed_catalog(s, None)
    outages = Outages(private_pg)
    # the third notice, the third ticket: received, and the database goes before the answer
    inbox = Inbox(lambda n: n == 3 and outages.trigger("smtp"))
    inbox.start()
    settings.smtp_host, settings.smtp_port = "127.0.0.1", inbox.port
    remote_app, remote_db, key = remote_crm(tmp_path)
    posts = 0

    def remote(environ: dict[str, Any], start_response: Any) -> Any:
        nonlocal posts
        answer = remote_app(environ, start_response)
        if environ["REQUEST_METHOD"] == "POST":
            posts += 1
            if posts == 3:
                outages.trigger("remote")
        return answer

    server = serve(remote)
    base = server.__enter__()
    with db.session() as s:
        dohmh = s.scalar(select(Agency).where(Agency.code == "DOHMH"))
        assert dohmh is not None
        dohmh.external_kind, dohmh.external_url = "open311", base + "/open311/v2"
        dohmh.external_api_key = key
    senders = {"open311": Open311Sender()}
    stop_worker = threading.Event()

    def worker() -> None:  # what APScheduler does with the jobs: run again, log a failure
        while not stop_worker.wait(0.3):
            for job in (lambda: deliver_pending(db, settings),
                        lambda: process_outbox(db, senders)):
                with contextlib.suppress(Exception):
                    job()

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
        wait_until(lambda: outages.fired == {"smtp", "remote"} and outages.over(), 40,
                   what="both outages (or one covering both) to be over")
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

        def all_delivered() -> bool:
            with db.session() as s:
                return s.scalar(select(func.count(OutboxItem.id)).where(
                    OutboxItem.status == "sent")) == TICKETS
        wait_until(all_delivered, 60, what="every ticket delivered")
        stop_worker.set()
        job.join(10)
        assert daemon.proc.poll() is None, "the daemon died with the database"
    finally:
        stop_worker.set()
        daemon.stop()
        inbox.stop()
        server.__exit__(None, None, None)
    counts = {f"resident{i}@example.org": len(inbox.to(f"resident{i}@example.org"))
              for i in range(TICKETS)}
    assert counts == dict.fromkeys(counts, 1), counts  # each notice exactly once
    assert len(inbox.messages) == TICKETS
    with remote_db.session() as s:  # each ticket exactly once at the remote
        assert sorted(t.description for t in s.scalars(select(Ticket))) == sorted(
            f"rats {i}" for i in range(TICKETS))
    remote_db.dispose()
    daemon_log = (tmp_path / "daemon.log").read_text()
    assert "could not apply" in daemon_log or "reconciliation" in daemon_log, \
        "the outage never reached the daemon: the test did not test it"
    db.dispose()
