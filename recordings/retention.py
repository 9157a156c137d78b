"""Retention: delete recordings older than their queue's retention period, except those under
QA review (sampled and not yet scored, or in an open calibration session) or legal hold.

``expired`` is the pure rule; ``run_retention`` applies it (the worker's job). The catalog
row stays, marked ``deleted`` with the date, so a deleted recording is never silently absent.

The rows are marked and committed first, then the files are removed, one at a time: a file
that cannot be removed (or lies outside the data directory) keeps its path on the deleted row
with the reason in ``detail``, is never served again, and is tried again on the next run;
the other files are removed all the same.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation.db import Database
from recordings import policy_queries
from recordings.models import (
    CalibrationSession,
    QaEvaluation,
    QaSample,
    Recording,
    RecordingStatus,
)
from recordings.policy import RecordingPolicy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    id: int
    queue: str
    started_at: datetime
    legal_hold: bool
    under_review: bool


def expired(items: Iterable[Candidate], policies: dict[str, RecordingPolicy],
            now: datetime) -> list[int]:
    """Ids of the recordings past their queue's retention_days and free to delete."""
    out = []
    for c in items:
        policy = policies.get(c.queue) or RecordingPolicy(c.queue)
        if c.legal_hold or c.under_review:
            continue
        if c.started_at < now - timedelta(days=policy.retention_days):
            out.append(c.id)
    return out


def under_review(session: Session) -> set[int]:
    """Recordings sampled for QA but not scored yet, and those in an open calibration."""
    sampled = set(session.scalars(select(QaSample.recording_id)))
    scored = set(session.scalars(select(QaEvaluation.recording_id)
                                 .where(QaEvaluation.calibration_id.is_(None))))
    calibrating = set(session.scalars(select(CalibrationSession.recording_id)
                                      .where(CalibrationSession.closed_at.is_(None))))
    return (sampled - scored) | calibrating


@dataclass(frozen=True)
class RetentionRun:
    deleted: list[str]  # uniqueids marked deleted by this run
    files_left: list[str]  # uniqueids of deleted recordings whose file could not be removed


def run_retention(db: Database, data_dir: Path, queues: list[str], now: datetime) -> RetentionRun:
    """Mark the expired recordings deleted (committed), then remove their files."""
    with db.session() as s:
        deleted = _mark(s, queues, now)
    with db.session() as s:
        pending = [(r.id, r.uniqueid, str(r.path), r.detail) for r in s.scalars(
            select(Recording).where(Recording.deleted_at.is_not(None),
                                    Recording.path.is_not(None)))]
    left = []
    for rid, uniqueid, relative, detail in pending:
        error = _remove(data_dir, relative)
        with db.session() as s:
            rec = s.get(Recording, rid)
            if rec is None:
                continue
            base = detail.split(NOT_REMOVED)[0]
            if error is None:
                rec.path, rec.detail = None, base
            else:
                rec.detail = f"{base}{NOT_REMOVED}{error}"[:500]
                left.append(uniqueid)
                log.warning("retention: the file of recording %s was not removed: %s",
                            uniqueid, error)
    if deleted:
        log.info("retention deleted %d recording(s)", len(deleted))
    return RetentionRun(deleted, left)


NOT_REMOVED = "; the file could not be removed yet: "


def _remove(data_dir: Path, relative: str) -> str | None:
    """Remove one recording file; the reason it could not be, or None."""
    base = data_dir.resolve()
    path = (base / relative).resolve()
    if not path.is_relative_to(base):
        return f"{relative} is outside the data directory"
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        return f"{type(exc).__name__}: {exc.strerror or exc}"
    return None


def _mark(session: Session, queues: list[str], now: datetime) -> list[str]:
    policies = policy_queries.load(session, queues)
    rows = {r.id: r for r in session.scalars(
        select(Recording).where(Recording.deleted_at.is_(None), Recording.path.is_not(None)))}
    review = under_review(session)
    doomed = expired((Candidate(r.id, r.queue, r.started_at, r.legal_hold, r.id in review)
                      for r in rows.values()), policies, now)
    deleted = []
    for rid in doomed:
        rec = rows[rid]
        days = (policies.get(rec.queue) or RecordingPolicy(rec.queue)).retention_days
        rec.status, rec.deleted_at = RecordingStatus.DELETED, now
        rec.detail = f"deleted by retention ({days} days for queue {rec.queue})"
        deleted.append(rec.uniqueid)
    return deleted
