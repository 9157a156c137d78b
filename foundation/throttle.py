"""Log-in throttling: too many failures for one account, or from one address, lock it for a
while, and each lock that follows soon after doubles.

The counters live in the database (``login_throttle``), so every web process (gunicorn
workers, several hosts) sees the same ones. A row is locked while it is updated (``SELECT
... FOR UPDATE`` on PostgreSQL; on SQLite the write lock is taken before the read), so
concurrent failures all count.
A lock is applied to the user name as typed, whether or not such a user exists, so the lock
message tells an attacker nothing about which accounts exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import String, delete, false, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from foundation.db import Base, UTCDateTime

KEY_CHARS = 64


class Scope(StrEnum):
    ACCOUNT = "account"
    ADDRESS = "address"


class LoginThrottle(Base):
    __tablename__ = "login_throttle"

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_CHARS), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)  # within the current window
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    lockouts: Mapped[int] = mapped_column(default=0)  # locks in a row: the next one doubles


@dataclass(frozen=True)
class Policy:
    """``max_failures`` within ``window`` lock for ``lockout``, doubled for every lock that
    follows within ``lockout_max`` of the last one ended, never longer than ``lockout_max``."""

    max_failures: int
    window: timedelta
    lockout: timedelta
    lockout_max: timedelta


def count_failure(row: LoginThrottle, policy: Policy, now: datetime) -> None:
    """Apply one failed log-in at ``now`` to the counters (the rule, apart from storage)."""
    if row.locked_until is not None and now >= row.locked_until + policy.lockout_max:
        row.lockouts = 0  # long quiet since the last lock: start again at the first delay
    if row.window_start is None or now - row.window_start >= policy.window:
        row.window_start, row.failures = now, 0
    row.failures = (row.failures or 0) + 1
    if row.failures >= policy.max_failures:
        row.lockouts = (row.lockouts or 0) + 1
        delay = min(policy.lockout * 2 ** (row.lockouts - 1), policy.lockout_max)
        row.locked_until = now + delay
        row.window_start, row.failures = None, 0


def _key(value: str) -> str:
    return value.strip().lower()[:KEY_CHARS]


def locked_until(session: Session, keys: dict[Scope, str], now: datetime) -> datetime | None:
    """The latest instant until which any of these keys is locked, or None when none is."""
    until = None
    for scope, value in keys.items():
        row = session.get(LoginThrottle, (scope.value, _key(value)))
        if row is not None and row.locked_until is not None and row.locked_until > now:
            until = row.locked_until if until is None else max(until, row.locked_until)
    return until


def record_failure(session: Session, keys: dict[Scope, tuple[str, Policy]],
                   now: datetime) -> None:
    if session.get_bind().dialect.name == "sqlite":
        # take SQLite's write lock before reading the counters (it has no FOR UPDATE), so
        # two processes counting at once cannot both read 3 and both write 4
        session.execute(update(LoginThrottle).where(false()).values(failures=0))
    for scope, (value, policy) in keys.items():
        count_failure(_row(session, scope, _key(value)), policy, now)
    session.flush()


def record_success(session: Session, username: str) -> None:
    """A good log-in clears the account's counters (not the address's: one valid account must
    not reset the count of an address guessing at others)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.scope == Scope.ACCOUNT.value,
                                                LoginThrottle.key == _key(username)))


def _row(session: Session, scope: Scope, key: str) -> LoginThrottle:
    for _ in range(2):
        row = session.get(LoginThrottle, (scope.value, key), with_for_update=True,
                          populate_existing=True)
        if row is not None:
            return row
        try:
            with session.begin_nested():
                session.add(LoginThrottle(scope=scope.value, key=key, failures=0, lockouts=0))
        except IntegrityError:
            continue  # another process added it first: lock and use theirs
    row = session.get(LoginThrottle, (scope.value, key), with_for_update=True)
    assert row is not None
    return row
