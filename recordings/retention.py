"""Retention: delete recordings older than their queue's retention period, except those under
QA review (sampled and not yet scored, or in an open calibration session) or legal hold.

``expired`` is the pure rule; ``run_retention`` applies it (the worker's job). The catalog
row stays, marked ``deleted`` with the date, so a deleted recording is never silently absent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

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


def run_retention(session: Session, data_dir: Path, queues: list[str],
                  now: datetime) -> list[str]:
    """Delete the expired files; returns the uniqueids deleted."""
    policies = policy_queries.load(session, queues)
    rows = {r.id: r for r in session.scalars(
        select(Recording).where(Recording.deleted_at.is_(None), Recording.path.is_not(None)))}
    review = under_review(session)
    doomed = expired((Candidate(r.id, r.queue, r.started_at, r.legal_hold, r.id in review)
                      for r in rows.values()), policies, now)
    deleted = []
    for rid in doomed:
        rec = rows[rid]
        path = data_dir / str(rec.path)
        path.unlink(missing_ok=True)
        days = (policies.get(rec.queue) or RecordingPolicy(rec.queue)).retention_days
        rec.status, rec.deleted_at, rec.path = RecordingStatus.DELETED, now, None
        rec.detail = f"deleted by retention ({days} days for queue {rec.queue})"
        deleted.append(rec.uniqueid)
    if deleted:
        log.info("retention deleted %d recording(s)", len(deleted))
    return deleted
