"""Twilio's copies of personal audio, deleted when civic311 no longer needs them: a call
recording once the catalog holds it (``recordings/twilio_copies.py``), a voicemail message at
its retention (``ivr/erasure_jobs.py``). Twilio keeps every recording until it is deleted, so
without this civic311's retention would not be the truth.

A capability queues a deletion (``enqueue``) in the same transaction as its own change; the
worker's ``twilio.deletions`` job then DELETEs each recording by REST, outside any
transaction, claimed and retried with backoff like every outbox (``foundation.claims``).
Twilio's 204 (deleted) or 404 (already gone) is the only thing that marks a row done, and
that answer is written to the personal-data audit (``privacy_erasures``) in the same
transaction; a failure is recorded on its row (attempts, error, next try, ``failed`` after
``MAX_ATTEMPTS``) and never stops the others. A city that wants Twilio as its archive sets
``twilio_keep_recordings``: nothing is queued or deleted then.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum
from functools import partial

import requests
from sqlalchemy import Index, Select, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from foundation import claims, retry
from foundation.db import Base, Database, UTCDateTime, utcnow
from foundation.erasure import Erasure, ErasureAction, ErasureKind
from foundation.jobs import Job
from foundation.settings import Settings
from foundation.twilio_rest import Rest

log = logging.getLogger(__name__)

BACKOFF = retry.Backoff(base_s=60.0, cap_s=6 * 3600.0)
MAX_ATTEMPTS = 16  # about three days of Twilio refusing before a person must look
BATCH = 50


class DeletionState(StrEnum):
    PENDING = "pending"  # Twilio holds the copy (or has not said otherwise yet)
    DONE = "done"  # Twilio answered 204 or 404: no copy there any more
    FAILED = "failed"  # given up: Twilio may still hold it


class TwilioDeletion(Base):
    """One recording to delete at Twilio, queued for one local row (``subject_table``,
    ``subject_id``: the catalogued recording or the IVR call that had the message)."""

    __tablename__ = "twilio_deletions"
    __table_args__ = (UniqueConstraint("subject_table", "subject_id",
                                       name="uq_twilio_deletions_subject"),
                      Index("ix_twilio_deletions_due", "status", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_sid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))  # ErasureKind
    subject_table: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(String(255))  # why civic311 no longer needs it
    status: Mapped[str] = mapped_column(String(16), default=DeletionState.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # when Twilio said it holds no copy (its answer: 204 deleted, 404 already gone)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    answer: Mapped[int | None] = mapped_column(default=None)


def enqueue(session: Session, kind: ErasureKind, table: str, subject_id: int,
            recording_sid: str, reason: str, now: datetime) -> TwilioDeletion:
    """Queue the deletion of Twilio's copy for one local row (once: a repeat returns the
    row already queued). An SID that is not one is queued all the same and fails at its
    first try, with the reason, where a person sees it."""
    row = session.scalar(select(TwilioDeletion).where(TwilioDeletion.subject_table == table,
                                                      TwilioDeletion.subject_id == subject_id))
    if row is None:
        row = TwilioDeletion(recording_sid=recording_sid[:64], kind=kind, subject_table=table,
                             subject_id=subject_id, reason=reason[:255], created_at=now,
                             next_attempt_at=now, status=DeletionState.PENDING, attempts=0,
                             last_error="")
        session.add(row)
        session.flush()
    return row


def queued(table: str) -> Select[int]:
    """The ids of ``table`` with a deletion queued (done or not), for a ``NOT IN``."""
    return select(TwilioDeletion.subject_id).where(TwilioDeletion.subject_table == table)


def delete_due(settings: Settings, db: Database, now: datetime | None = None) -> int:
    """DELETE every due recording at Twilio; returns how many Twilio no longer holds."""
    rest = Rest.from_settings(settings)
    if rest is None or settings.twilio_keep_recordings:
        return 0
    now = now or utcnow()

    def one(row_id: int) -> int:
        with db.session() as s:
            row = s.get(TwilioDeletion, row_id)
            if row is None or row.status != DeletionState.PENDING:
                return 0
            sid = row.recording_sid
        outcome = retry.attempt(partial(rest.delete_recording, sid), (requests.RequestException,),
                                retry.as_text)  # no transaction is open while Twilio answers
        with db.session() as s:
            row = s.get(TwilioDeletion, row_id)
            assert row is not None
            if not outcome.ok:
                claims.settle(row, outcome.error or "", now, MAX_ATTEMPTS,
                              permanent=outcome.permanent, backoff=BACKOFF)
                log.warning("Twilio's copy %s not deleted (attempt %d): %s", sid, row.attempts,
                            outcome.error)
                return 0
            row.status, row.locked_until, row.last_error = DeletionState.DONE, None, ""
            row.deleted_at, row.answer = now, outcome.value
            said = "deleted it (204)" if outcome.value != 404 else "had no copy any more (404)"
            s.add(Erasure(kind=row.kind, subject_table=row.subject_table,
                          subject_id=row.subject_id, action=ErasureAction.DELETED,
                          fields="twilio_recording", at=now, by="twilio.deletions",
                          detail=f"Twilio's copy {sid} ({row.reason}): Twilio {said}"))
            log.info("Twilio's copy %s of %s %s: Twilio %s", sid, row.subject_table,
                     row.subject_id, said)
            return 1

    return claims.each(db, TwilioDeletion, claims.claim(db, TwilioDeletion, now, BATCH), one,
                       now, MAX_ATTEMPTS)


def jobs(settings: Settings, db: Database) -> list[Job]:
    return [Job("twilio.deletions", lambda: delete_due(settings, db), 60)]
