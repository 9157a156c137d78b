"""The monthly QA sample: each agent's calls of the month drawn at random (worker job)."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings.models import QaSample, Recording, RecordingStatus
from recordings.qa.rules import draw, month_of

PER_AGENT = 4


def month_bounds(month: str, tz: str) -> tuple[datetime, datetime]:
    year, mon = (int(x) for x in month.split("-"))
    zone = ZoneInfo(tz)
    start = datetime(year, mon, 1, tzinfo=zone)
    end = datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=zone)
    return start, end


def draw_month(session: Session, now: datetime, tz: str, month: str | None = None,
               per_agent: int = PER_AGENT, rng: random.Random | None = None) -> int:
    """Top up every agent's sample for ``month`` (default: this month); returns calls added."""
    month = month or month_of(now, tz)
    start, end = month_bounds(month, tz)
    taken = {r for r in session.scalars(select(QaSample.recording_id).where(
        QaSample.month == month))}
    already = Counter(session.scalars(select(QaSample.agent).where(QaSample.month == month)))
    candidates: dict[str, list[int]] = defaultdict(list)
    for rid, agent in session.execute(select(Recording.id, Recording.agent).where(
            Recording.status == RecordingStatus.OK, Recording.agent.is_not(None),
            Recording.started_at >= start, Recording.started_at < end)):
        if rid not in taken and agent is not None:
            candidates[agent].append(rid)
    picked = draw(candidates, already, per_agent, rng or random.SystemRandom())
    for agent, ids in picked.items():
        for rid in ids:
            session.add(QaSample(month=month, agent=agent, recording_id=rid, drawn_at=now))
    session.flush()
    return sum(len(v) for v in picked.values())
