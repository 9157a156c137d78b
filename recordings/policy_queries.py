"""Repository functions for the per-queue recording policies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation.db import utcnow
from recordings.models import RecordingPolicyRow
from recordings.policy import RecordingPolicy


def default(queue: str) -> RecordingPolicy:
    return RecordingPolicy(queue=queue)


class Loaded(dict[str, RecordingPolicy]):
    """Policies by queue, plus when each row was last changed."""

    updated: dict[str, datetime]


def load(session: Session, queues: list[str]) -> Loaded:
    rows = {r.queue: r for r in session.scalars(select(RecordingPolicyRow))}
    out = Loaded()
    out.updated = {}
    for q in queues:
        row = rows.get(q)
        if row is None:
            out[q] = default(q)
            continue
        out[q] = RecordingPolicy(queue=q, mode=row.mode, sample_pct=row.sample_pct,
                                 retention_days=row.retention_days, beep=row.beep)
        out.updated[q] = row.updated_at
    return out


def changed_since(policies: Loaded, queue: str, since: datetime) -> bool:
    at = policies.updated.get(queue)
    return at is not None and at >= since


def save(session: Session, policy: RecordingPolicy, by: str) -> None:
    row = session.get(RecordingPolicyRow, policy.queue)
    if row is None:
        row = RecordingPolicyRow(queue=policy.queue)
        session.add(row)
    row.mode, row.sample_pct = policy.mode, policy.sample_pct
    row.retention_days, row.beep = policy.retention_days, policy.beep
    row.updated_at, row.updated_by = utcnow(), by
    session.flush()
