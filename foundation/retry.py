"""Retry policy shared by every claim/attempt/backoff loop (CRM outbox, resident notifications,
Twilio callbacks): one attempt outside any database transaction, its error caught as text, and
exponential backoff before the next one. Pure: the claim on the rows is ``foundation.claims``.

An attempt never raises: an error the caller expects (``errors``) is retried; ``Permanent``
says no retry can help (the row fails at once); any other exception is a defect of this one
item, recorded on it like a failure, so one bad row never stops the rows claimed with it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

R = TypeVar("R")
ERROR_CHARS = 500  # what the rows' last_error columns hold


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: base_s, 2*base_s, 4*base_s ... seconds, capped at cap_s."""

    base_s: float = 30.0
    cap_s: float = 3600.0

    def delay(self, attempts: int) -> timedelta:
        """Delay before retry number ``attempts`` (1-based)."""
        return timedelta(seconds=min(self.cap_s, self.base_s * 2 ** max(0, attempts - 1)))

    def next_attempt(self, attempts: int, now: datetime) -> datetime:
        """When to try again after ``attempts`` failed attempts, counted from ``now``."""
        return now + self.delay(attempts)


DEFAULT = Backoff()


def backoff(attempts: int, base_s: float = 30.0, cap_s: float = 3600.0) -> timedelta:
    """Delay before retry number ``attempts`` (1-based): 30 s, 60 s, 2 min ... capped at 1 h."""
    return Backoff(base_s, cap_s).delay(attempts)


class Permanent(Exception):
    """An attempt that no retry will fix (a malformed address, an item that cannot be built)."""


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """What one attempt gave: its value, or the error as text (never both)."""

    value: R | None = None
    error: str | None = None
    permanent: bool = False  # no retry will help: fail the row now
    expected: bool = True  # False: an exception outside ``errors`` (a defect, logged in full)

    @property
    def ok(self) -> bool:
        """True when the attempt succeeded."""
        return self.error is None


def as_text(exc: BaseException) -> str:
    """``TypeName: message``, the way rows record an unexpected error."""
    return f"{type(exc).__name__}: {exc}"


def attempt(send: Callable[[], R], errors: tuple[type[BaseException], ...],
            describe: Callable[[BaseException], str] = str) -> Outcome[R]:
    """Run ``send`` once; any exception becomes ``Outcome.error`` (clipped), never a raise."""
    try:
        return Outcome(value=send())
    except Permanent as exc:
        return Outcome(error=describe(exc)[:ERROR_CHARS], permanent=True)
    except errors as exc:
        return Outcome(error=describe(exc)[:ERROR_CHARS])
    except Exception as exc:
        return Outcome(error=as_text(exc)[:ERROR_CHARS], expected=False)


def exhausted(attempts: int, max_attempts: int) -> bool:
    """True once ``attempts`` reached ``max_attempts``: stop retrying and mark the row failed."""
    return attempts >= max_attempts
