"""Several ``civic311 worker`` processes on one database: exactly one runs the jobs, a standby
takes over within seconds of its death, and a worker whose lock connection is cut stops its
scheduler at once (issue #17 item 5).

What a job run is: the worker's ``job <id> runs`` line (DEBUG), written by the guard every
job passes through just before its function is called. The processes share one clock, so the
timestamps of two workers' lines can be compared.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from center import schema
from foundation.db import Database, utcnow
from foundation.heartbeat import Heartbeat, beat, forget, read_all
from foundation.leader import WORKER_LOCK_KEY, FileLock, PostgresLock
from tests.support.pbx import wait_until
from tests.support.private_pg import PrivatePostgres

LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ [\w.]+: (.*)$", re.M)


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    log: Path

    def lines(self) -> list[tuple[datetime, str]]:
        text = self.log.read_text(errors="replace")
        return [(datetime.strptime(t, "%Y-%m-%d %H:%M:%S,%f").astimezone(), msg)
                for t, msg in LINE.findall(text)]

    def state(self) -> str | None:
        """``active`` or ``standby``: what the worker last said it is."""
        said = [m.split()[1].rstrip(":") for _, m in self.lines()
                if m.startswith(("worker active", "worker standby"))]
        return said[-1] if said else None

    def runs(self) -> list[tuple[datetime, str]]:
        return [(t, m.split()[1]) for t, m in self.lines()
                if m.startswith("job ") and m.endswith(" runs")]

    def first(self, prefix: str) -> datetime:
        return next(t for t, m in self.lines() if m.startswith(prefix))


def start_worker(url: str, tmp_path: Path, name: str) -> Worker:
    log = tmp_path / f"worker-{name}.log"
    env = {**os.environ, "DATABASE_URL": url, "CIVIC311_DATA_DIR": str(tmp_path / name)}
    with log.open("wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "center", "--log-level", "DEBUG",
                                 "worker"], env=env, stdout=fh, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    return Worker(proc, log)


@pytest.fixture
def workers(database: Database, tmp_path: Path) -> Iterator[list[Worker]]:
    started = [start_worker(database.url, tmp_path, name) for name in ("a", "b")]
    try:
        yield started
    finally:
        for w in started:
            if w.proc.poll() is None:
                w.proc.kill()
            w.proc.wait(10)


def settled(workers: list[Worker]) -> tuple[Worker, Worker] | None:
    """(active, standby) once one says active and the other standby."""
    a, b = workers
    states = (a.state(), b.state())
    if states == ("active", "standby"):
        return a, b
    if states == ("standby", "active"):
        return b, a
    return None


def cut_lock_session(db: Database) -> list[object]:
    """End the session holding the worker lock, as a database restart would."""
    admin = sa.create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            return list(c.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                " AND objid = :key AND database = (SELECT oid FROM pg_database"
                " WHERE datname = current_database())"), {"key": WORKER_LOCK_KEY}).scalars())
    finally:
        admin.dispose()


def worker_heartbeat(db: Database) -> dict[str, object]:
    with db.session() as s:
        return read_all(s).get("worker", {})


def test_one_worker_runs_the_jobs_and_a_standby_takes_over(database: Database,
                                                          workers: list[Worker]) -> None:
    active, standby = wait_until(lambda: settled(workers), 90, what="one active, one standby")
    wait_until(lambda: worker_heartbeat(database).get("pid") == active.proc.pid
               and len(active.runs()) >= 2, 30, what="the active worker's jobs")
    with database.session() as s:
        roles = {c["pid"]: c.get("role") for c in read_all(s).values() if "pid" in c}
    assert roles == {active.proc.pid: "active", standby.proc.pid: "standby"}
    assert standby.runs() == [], "the standby ran a job while the active worker lived"
    assert standby.proc.poll() is None

    killed = time.monotonic()
    active.proc.kill()
    active.proc.wait(10)
    wait_until(lambda: standby.state() == "active", 15, interval=0.05,
               what="the standby to take over")
    took = time.monotonic() - killed
    print(f"standby active {took:.2f} s after the active worker was killed")
    assert took < 5
    wait_until(lambda: worker_heartbeat(database).get("pid") == standby.proc.pid
               and standby.runs(), 30, what="the new active worker's jobs")
    # every job run of the new one came after it was active and after the old one's last
    became_active = standby.first("worker active")
    assert all(t >= became_active for t, _ in standby.runs())
    assert max(t for t, _ in active.runs()) < min(t for t, _ in standby.runs())
    # stopped by a signal, the active worker finishes its jobs and says it stopped
    standby.proc.terminate()
    assert standby.proc.wait(30) == 0, standby.log.read_text()[-2000:]
    last = worker_heartbeat(database)
    assert (last["ok"], last.get("stopped"), last["pid"]) == (False, True, standby.proc.pid)


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_a_worker_whose_lock_connection_is_cut_stops_its_jobs(database: Database,
                                                              workers: list[Worker]) -> None:
    active, standby = wait_until(lambda: settled(workers), 90, what="one active, one standby")
    wait_until(lambda: active.runs(), 30, what="the active worker's jobs")
    assert cut_lock_session(database) == [True]
    wait_until(lambda: any(m.startswith("worker lost its lock") for _, m in active.lines()),
               10, interval=0.05, what="the worker to notice its lock is gone")
    lost = active.first("worker lost its lock")
    wait_until(lambda: any(t >= lost and m.startswith(("worker active", "worker standby"))
                           for t, m in active.lines()) and settled(workers), 15,
               what="the worker back, and one active, one standby again")
    assert active.proc.poll() is None and standby.proc.poll() is None
    again = [t for t, m in active.lines() if m.startswith("worker active") and t >= lost]
    between = [(t, j) for t, j in active.runs() if t > lost and (not again or t < again[0])]
    assert between == [], "a job ran after the worker lost its lock"
    # nobody else ran a job while the first worker held the lock
    last_run_before = max(t for t, _ in active.runs() if t <= lost)
    assert all(t > last_run_before for t, _ in standby.runs())


def test_a_sqlite_lock_file_is_held_by_one_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "civic311.db.worker-lock"
    first, second = FileLock(path), FileLock(path)  # two open files: flock tells them apart
    assert first.acquire() and first.held()
    assert not second.acquire() and not second.held()
    first.release()
    assert not first.held()
    assert second.acquire()
    assert path.read_text().startswith(f"{os.getpid()}@")
    path.unlink()  # a lock file removed: another worker would lock a new one
    assert not second.held()
    second.release()


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_a_postgres_lock_lost_with_its_session(database: Database) -> None:
    first, second = PostgresLock(database.url), PostgresLock(database.url)
    try:
        assert first.acquire() and first.held()
        assert not second.acquire()
        assert cut_lock_session(database) == [True]
        assert not first.held()
        assert second.acquire() and second.held()
        assert not first.acquire()
    finally:
        first.release()
        second.release()


def make_stale(s: Session, component: str) -> None:
    row = s.get(Heartbeat, component)
    assert row is not None
    row.updated_at = utcnow() - timedelta(minutes=5)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_status_leaves_out_a_standby_that_is_gone(database: Database) -> None:
    with database.session() as s:
        beat(s, "worker", True, role="active", pid=1)
        beat(s, "worker~2@here", True, role="standby", pid=2)
        beat(s, "worker~3@there", True, role="standby", pid=3)
    with database.session() as s:
        make_stale(s, "worker~3@there")
    with database.session() as s:
        components = read_all(s)
    assert {name: c["ok"] for name, c in components.items()} == {
        "worker": True, "worker~2@here": True}
    with database.session() as s:
        make_stale(s, "worker")
        forget(s, "worker~2@here")
    with database.session() as s:  # the active worker gone stale is a fault, not left out
        assert {name: c["ok"] for name, c in read_all(s).items()} == {"worker": False}


def test_a_database_restart_stops_the_jobs_until_the_lock_is_back(
        private_pg: PrivatePostgres, tmp_path: Path) -> None:
    """The private PostgreSQL of this test restarts under an active worker: its scheduler
    stops when the lock's session ends, and starts again once it holds a new one."""
    url = private_pg.create_database("civic311")
    db = Database(url)
    try:
        schema.upgrade(db)
    finally:
        db.dispose()
    worker = start_worker(url, tmp_path, "a")
    try:
        wait_until(lambda: worker.state() == "active" and worker.runs(), 90,
                   what="the worker active, running its jobs")
        private_pg.restart()
        lost = wait_until(lambda: next((t for t, m in worker.lines()
                                        if m.startswith("worker lost its lock")), None),
                          20, interval=0.05, what="the worker to notice its lock is gone")
        wait_until(lambda: any(t > lost and m.startswith("worker active")
                               for t, m in worker.lines()), 30,
                   what="the worker active again once the database is back")
        back = next(t for t, m in worker.lines() if t > lost and m.startswith("worker active"))
        assert [j for t, j in worker.runs() if lost < t < back] == []
        wait_until(lambda: any(t > back for t, _ in worker.runs()), 30,
                   what="the jobs to run again")
        assert worker.proc.poll() is None
    finally:
        worker.proc.kill()
        worker.proc.wait(10)
