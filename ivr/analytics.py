"""Self-service analytics: per main-menu option, calls that ended in the IVR (contained)
versus calls that reached an agent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.models import IvrCall

OPTIONS = ("status", "faq", "report", "agent", "after_hours", "none")


def containment(session: Session, t0: datetime, t1: datetime) -> dict[str, Any]:
    """Calls that started in [t0, t1): {"options": {option: {calls, contained, agent,
    callback, voicemail, hangup, containment}}, "total": {...}}; containment is a 0-1 ratio
    of contained calls to calls that chose something (None when there were none)."""
    rows = session.execute(
        select(IvrCall.option, IvrCall.outcome, func.count())
        .where(IvrCall.started_at >= t0, IvrCall.started_at < t1, IvrCall.outcome.is_not(None))
        .group_by(IvrCall.option, IvrCall.outcome)).all()
    blank: dict[str, Any] = {"calls": 0, "contained": 0, "agent": 0, "callback": 0,
                             "voicemail": 0, "hangup": 0}
    options: dict[str, dict[str, Any]] = {o: dict(blank) for o in OPTIONS}
    total: dict[str, Any] = dict(blank)
    for option, outcome, n in rows:
        outcome = str(outcome)
        row = options.setdefault(option or "none", dict(blank))
        for bucket in (row, total):
            bucket["calls"] += n
            bucket[outcome] = bucket.get(outcome, 0) + n
    for bucket in (*options.values(), total):
        decided = bucket["contained"] + bucket["agent"]
        bucket["containment"] = round(bucket["contained"] / decided, 4) if decided else None
    return {"from": t0.isoformat(), "to": t1.isoformat(), "options": options, "total": total}
