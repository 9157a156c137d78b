"""Personal data past its retention: the audit log of every erasure, and the loop that applies
one capability's rule to its rows without letting one bad row stop the others.

Each capability owns its rule (which rows, which columns; ``acd/erasure_jobs.py``,
``ivr/erasure_jobs.py``, ``crm_bridge/erasure_jobs.py``) and hands ``erase_each`` the ids of
the rows due and a ``work(session, id)`` that erases one row. The loop follows
``foundation.claims``: a chunk of rows is erased in one transaction together with its audit
rows; when that transaction fails, the chunk is redone one row per transaction, so a row whose
work raises is recorded as ``failed`` (attempts, the error, the next try with
``foundation.retry``'s backoff) and every other row is erased all the same. A failed row is
left out of the candidates until its next try is due, and for good after ``MAX_ATTEMPTS``, so
it never holds a batch back. Only columns that identify a person are changed: counts,
durations and outcomes stay, so metrics and reports read the same before and after.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from foundation import retry
from foundation.db import Base, Database, UTCDateTime, utcnow

log = logging.getLogger(__name__)

CHUNK = 500  # rows per transaction while nothing fails
MAX_ATTEMPTS = 8  # a row that failed this often is left for a person to look at
PSEUDONYM_PREFIX = "anon:"


class ErasureKind(StrEnum):
    """The kinds of personal data with a retention rule (settings ``retention_*_days``)."""

    CALLER_NUMBER = "caller_number"  # caller ID on call records, IVR calls and callbacks
    TICKET_CONTACT = "ticket_contact"  # a resident's name, phone, e-mail and ids on a ticket
    VOICEMAIL = "voicemail"  # the audio of a message left after hours
    CALL_RECORDING = "call_recording"  # Twilio's copy of a call recording (the catalog's own
    # files follow the queue's retention_days: recordings/retention.py)


class ErasureAction(StrEnum):
    ANONYMISED = "anonymised"  # the row stays, its personal columns replaced or emptied
    DELETED = "deleted"  # a file (voicemail audio) removed
    FAILED = "failed"  # the erasure raised; retried with backoff


class Erasure(Base):
    """One erasure of one row's personal data (or the last failure to erase it)."""

    __tablename__ = "privacy_erasures"
    __table_args__ = (Index("ix_privacy_erasures_subject", "subject_table", "subject_id"),
                      Index("ix_privacy_erasures_at", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    subject_table: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[int] = mapped_column()
    action: Mapped[str] = mapped_column(String(16))
    fields: Mapped[str] = mapped_column(String(255), default="")  # the columns changed
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    by: Mapped[str] = mapped_column(String(64), default="retention")
    detail: Mapped[str] = mapped_column(Text, default="")  # the rule applied, or the error
    attempts: Mapped[int] = mapped_column(default=0)  # failed rows: how many tries so far
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


@dataclass(frozen=True)
class Erased:
    """What ``work`` did to one row (None from ``work``: nothing was left to erase)."""

    action: ErasureAction
    fields: Sequence[str]
    detail: str = ""


@dataclass
class ErasureRun:
    erased: int = 0
    failed: list[int] = field(default_factory=list)


def pseudonym(secret: str, value: str) -> str:
    """A stable stand-in for ``value`` (HMAC-SHA256 under ``secret``): the same number always
    gives the same pseudonym, so repeat-caller figures still count, and the number cannot be
    read back without the installation's secret."""
    mac = hmac.new(secret.encode(), f"caller:{value}".encode(), hashlib.sha256)
    return PSEUDONYM_PREFIX + mac.hexdigest()[:16]


def is_pseudonym(value: str | None) -> bool:
    return bool(value) and str(value).startswith(PSEUDONYM_PREFIX)


def caller_key(secret: str | None) -> Callable[[str], str]:
    """How reports compare caller numbers: through the pseudonym, so an erased number and a
    kept one of the same line still match (without a secret, as stored)."""
    if not secret:
        return str

    def key(number: str) -> str:
        return number if is_pseudonym(number) else pseudonym(secret, number)

    return key


def held_back(session: Session, kind: ErasureKind, table: str, now: datetime) -> set[int]:
    """Ids of ``table`` whose last ``kind`` erasure failed and is not due again yet (or gave
    up): left out of the candidates, so a bad row never takes the place of good ones."""
    return set(session.scalars(select(Erasure.subject_id).where(
        Erasure.kind == kind, Erasure.subject_table == table,
        Erasure.action == ErasureAction.FAILED,
        or_(Erasure.next_attempt_at.is_(None), Erasure.next_attempt_at > now))))


def erase_each(db: Database, kind: ErasureKind, table: str, ids: Iterable[int],
               work: Callable[[Session, int], Erased | None], now: datetime,
               max_attempts: int = MAX_ATTEMPTS) -> ErasureRun:
    """Erase every row of ``ids`` with ``work``, each erasure logged in the same transaction."""
    run = ErasureRun()
    todo = list(ids)
    for start in range(0, len(todo), CHUNK):
        chunk = todo[start:start + CHUNK]
        try:
            with db.session() as s:
                run.erased += sum(_one(s, kind, table, row_id, work, now) for row_id in chunk)
            continue
        except Exception:  # one row spoiled the chunk: redo it one row per transaction
            log.info("erasure %s: a chunk of %s failed; erasing its rows one by one", kind, table)
        for row_id in chunk:
            try:
                with db.session() as s:
                    run.erased += _one(s, kind, table, row_id, work, now)
            except Exception as exc:
                log.warning("erasure %s of %s %s failed: %s", kind, table, row_id, exc)
                run.failed.append(row_id)
                _record_failure(db, kind, table, row_id, retry.as_text(exc), now, max_attempts)
    if run.erased or run.failed:
        log.info("erasure %s: %d row(s) of %s erased, %d failed", kind, run.erased, table,
                 len(run.failed))
    return run


def _one(s: Session, kind: ErasureKind, table: str, row_id: int,
         work: Callable[[Session, int], Erased | None], now: datetime) -> int:
    done = work(s, row_id)
    if done is None:
        return 0
    s.add(Erasure(kind=kind, subject_table=table, subject_id=row_id, action=done.action,
                  fields=",".join(done.fields)[:255], at=now, detail=done.detail))
    return 1


def _record_failure(db: Database, kind: ErasureKind, table: str, row_id: int, error: str,
                    now: datetime, max_attempts: int) -> None:
    """One ``failed`` row per subject, updated at each try (never one row per run)."""
    try:
        with db.session() as s:
            row = s.scalar(select(Erasure).where(
                Erasure.kind == kind, Erasure.subject_table == table, Erasure.subject_id == row_id,
                Erasure.action == ErasureAction.FAILED))
            if row is None:
                row = Erasure(kind=kind, subject_table=table, subject_id=row_id,
                              action=ErasureAction.FAILED, attempts=0)
                s.add(row)
            row.attempts += 1
            row.at, row.detail = now, error[:retry.ERROR_CHARS]
            row.next_attempt_at = (None if retry.exhausted(row.attempts, max_attempts)
                                   else retry.DEFAULT.next_attempt(row.attempts, now))
    except Exception:
        log.exception("erasure %s of %s %s: the failure could not be recorded either", kind,
                      table, row_id)


def recent(session: Session, limit: int = 200) -> list[Erasure]:
    """The newest erasures and failures, for the admin page and the CLI."""
    return list(session.scalars(select(Erasure).order_by(Erasure.at.desc(), Erasure.id.desc())
                                .limit(limit)))
