"""Which worker runs the jobs: one exclusive lock per database, held for the process's life.

Several ``civic311 worker`` processes may run against one database (on several machines, for
a spare that takes over). Exactly one holds the lock and runs the scheduler; the others stand
by and try again every ``worker_lock_retry_s``. A holder that dies loses its lock with it:

- PostgreSQL: a session-level advisory lock, ``pg_try_advisory_lock(WORKER_LOCK_KEY)``, on a
  connection of its own kept open for the worker's life. PostgreSQL frees it when that session
  ends (process killed, machine gone once TCP keepalives give up, database restarted), so a
  standby on any machine gets it at its next try.
- SQLite (one machine): ``flock`` on ``<database file>.worker-lock``; the kernel frees it
  when the process dies.

A holder checks its lock every retry and before every job run (``held``): a lost one stops the
scheduler at once, so no job runs while another worker could hold the lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import threading
import time
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# The advisory lock key of civic311's worker (an arbitrary fixed number). Advisory lock keys
# are one namespace per database: nothing else using the same database may take this key.
WORKER_LOCK_KEY = 311_017_005

# How long the lock connection may go unanswered before it counts as lost (seconds).
LOCK_TIMEOUT_S = 5

# A standby retries every second or so while the database is down: it says so at the first
# failure and then once a minute (with the count), not at every try.
UNREACHABLE_LOG_EVERY_S = 60.0


class Lock(Protocol):
    def acquire(self) -> bool:
        """Take the lock if it is free; False if another process holds it (or it cannot be
        reached)."""

    def held(self) -> bool:
        """Whether this process still holds the lock it acquired."""

    def release(self) -> None:
        """Let the lock go (and close what held it); safe to call when not held."""


class PostgresLock:
    """``pg_try_advisory_lock`` on a dedicated connection; the lock lives as long as it does."""

    def __init__(self, url: str, key: int = WORKER_LOCK_KEY) -> None:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        # AUTOCOMMIT: the lock is the session's, and the session never sits idle in a
        # transaction; keepalives and timeouts so a dead network shows as a lost lock
        self._engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT",
                                     connect_args={
                                         "connect_timeout": LOCK_TIMEOUT_S,
                                         "application_name": "civic311 worker lock",
                                         "keepalives": 1, "keepalives_idle": LOCK_TIMEOUT_S,
                                         "keepalives_interval": 1, "keepalives_count": 3,
                                         "tcp_user_timeout": LOCK_TIMEOUT_S * 1000,
                                         "options": f"-c statement_timeout={LOCK_TIMEOUT_S}s",
                                     })
        self._key = key
        self._conn: Connection | None = None
        self._guard = threading.Lock()  # the main loop and job threads share the connection
        self._failures = 0  # tries since the database last answered
        self._warned_at: float | None = None

    def acquire(self) -> bool:
        with self._guard:
            try:
                if self._conn is None:
                    self._conn = self._engine.connect()
                got = self._conn.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                         {"key": self._key}).scalar_one()
            except DBAPIError as exc:
                self._unreachable(exc)
                self._close()
                return False
            if self._failures:
                log.info("worker lock: database reachable again after %d failed tries",
                         self._failures)
                self._failures, self._warned_at = 0, None
            return bool(got)

    def _unreachable(self, exc: DBAPIError) -> None:
        self._failures += 1
        now = time.monotonic()
        if self._warned_at is None or now - self._warned_at >= UNREACHABLE_LOG_EVERY_S:
            self._warned_at = now
            log.warning("worker lock: database unreachable (%d tries so far): %s",
                        self._failures, str(exc).splitlines()[0])

    def held(self) -> bool:
        """A session-level lock lasts exactly as long as its session, so the same connection
        answering proves the lock is still ours."""
        with self._guard:
            if self._conn is None:
                return False
            try:
                self._conn.execute(text("SELECT 1"))
            except DBAPIError:
                self._close()
                return False
            return True

    def release(self) -> None:
        with self._guard:
            self._close()  # ending the session frees the lock; no unlock needed

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(DBAPIError):  # already gone: so is the lock
                self._conn.close()
            self._conn = None


class FileLock:
    """An exclusive ``flock`` on a file next to the SQLite database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return self.held()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}@{socket.gethostname()}\n".encode())  # for a reader
        self._fd = fd
        return True

    def held(self) -> bool:
        """Ours while the file we locked is still the one at ``path`` (deleted or replaced,
        another worker would lock a new file)."""
        if self._fd is None:
            return False
        try:
            return os.stat(self.path).st_ino == os.fstat(self._fd).st_ino
        except FileNotFoundError:
            return False

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing frees the flock
            self._fd = None


def lock_for(url: str) -> Lock:
    """The worker lock of the database at ``url`` (a SQLAlchemy URL)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return PostgresLock(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" \
            or database.startswith("file:"):
        raise ValueError(f"no worker lock for {parsed.render_as_string()}: use PostgreSQL "
                         "or a SQLite file")
    return FileLock(Path(database + ".worker-lock"))


class Duty(Protocol):
    """What the holder of the lock does (the worker's scheduler)."""

    def begin(self) -> None:
        """The lock is ours: start working."""

    def end(self, lost: bool) -> None:
        """Stop working; ``lost``: the lock is gone, stop at once."""

    def standby(self) -> None:
        """Called at each try while another process holds the lock."""


def lead(lock: Lock, duty: Duty, stop: threading.Event, retry_s: float) -> None:
    """Do ``duty`` while holding ``lock``, stand by while another holds it, until ``stop``;
    retry_s: seconds between tries and between checks of a held lock."""
    try:
        while not stop.is_set():
            if not lock.acquire():
                duty.standby()
                stop.wait(retry_s)
                continue
            duty.begin()
            lost = False
            while not lost and not stop.wait(retry_s):
                lost = not lock.held()
            duty.end(lost)
            if lost:
                lock.release()  # the dead connection (or stale file); the next try opens anew
    finally:
        lock.release()

