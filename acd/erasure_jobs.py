"""The worker's erasure of caller ID on call records past ``retention_caller_number_days``.

A call record's number becomes a keyed pseudonym (``foundation.erasure.pseudonym``) and its
caller name is emptied; everything measured (times, outcome, queue, agent) stays, so every
metric and report reads the same. The repeat-caller figure compares numbers through the same
pseudonym (``range_report.repeat_callers``), so it is unchanged across the boundary too.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from acd.models import CallRecord
from foundation.db import Database, utcnow
from foundation.erasure import (
    PSEUDONYM_PREFIX,
    Erased,
    ErasureAction,
    ErasureKind,
    ErasureRun,
    erase_each,
    held_back,
    is_pseudonym,
    pseudonym,
)
from foundation.jobs import Job
from foundation.settings import Settings

TABLE = "call_records"
MAX_PER_RUN = 50_000


def erase_caller_numbers(db: Database, secret: str | None, days: int,
                         now: datetime) -> ErasureRun:
    """Pseudonymise the caller ID of call records that entered a queue ``days`` ago or more."""
    cutoff = now - timedelta(days=days)
    with db.session() as s:
        skip = held_back(s, ErasureKind.CALLER_NUMBER, TABLE, now)
        q = select(CallRecord.id).where(
            CallRecord.entered_at < cutoff,
            or_(and_(CallRecord.caller_number.is_not(None),
                     ~CallRecord.caller_number.startswith(PSEUDONYM_PREFIX)),
                CallRecord.caller_name.is_not(None)))
        if skip:
            q = q.where(CallRecord.id.not_in(skip))
        ids = list(s.scalars(q.order_by(CallRecord.id).limit(MAX_PER_RUN)))

    def work(s: Session, row_id: int) -> Erased | None:
        rec = s.get(CallRecord, row_id)
        if rec is None:
            return None
        fields = []
        if rec.caller_number and not is_pseudonym(rec.caller_number):
            rec.caller_number = pseudonym(secret, rec.caller_number) if secret else None
            fields.append("caller_number")
        if rec.caller_name is not None:
            rec.caller_name = None
            fields.append("caller_name")
        return Erased(ErasureAction.ANONYMISED, fields,
                      f"caller ID kept {days} days") if fields else None

    return erase_each(db, ErasureKind.CALLER_NUMBER, TABLE, ids, work, now)


def erase(settings: Settings, db: Database, now: datetime) -> dict[str, ErasureRun]:
    return {TABLE: erase_caller_numbers(db, settings.secret_key,
                                        settings.retention_caller_number_days, now)}


def jobs(settings: Settings, db: Database) -> list[Job]:
    return [Job("acd.erasure", lambda: erase(settings, db, utcnow()), 3600)]
