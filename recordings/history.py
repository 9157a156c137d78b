"""The QA side of a made-up past: a catalog row for every answered call of the generated
history, monthly QA samples per agent, and evaluations of most of them on the standard form.

No real conversation exists, so a sampled call's file is a short tone that stands in for it
(the row's ``detail`` says so); every other call's row is ``skipped`` with that reason. The
catalog rows also keep the worker's catalog job from reporting the history's calls as
missing recordings. Idempotent by marker: evaluations by ``EVALUATOR`` exist -> nothing.
"""

from __future__ import annotations

import math
import random
import struct
import wave
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation import bulk
from recordings.audio import inspect
from recordings.catalog import Paths
from recordings.models import QaEvaluation, QaSample, Recording, RecordingStatus
from recordings.qa.queries import criteria_of, ensure_default_form, evaluate
from recordings.qa.rules import month_of
from recordings.qa.sampling import PER_AGENT

EVALUATOR = "qa"  # the demo's QA user
TONE_S = 3.0
STAND_IN = f"demo history: a {TONE_S:g}-second tone stands in for the conversation"
NO_AUDIO = "demo history: no audio for calls outside the QA sample"
FIELDS = ("uniqueid", "call_id", "queue", "agent", "ticket_number", "started_at", "talk_s",
          "status", "detail", "path", "duration_s", "size_bytes", "sha256", "catalogued_at",
          "legal_hold", "hold_reason")
COMMENTS = ("Good greeting; read the ticket number back.", "Missed the SLA statement.",
            "Clear and patient with an upset caller.", "Chose the wrong service type at first.",
            "Confirmed the address twice: good.", "Closing could be warmer.")


def present(session: Session) -> bool:
    return session.scalar(select(QaEvaluation.id).where(QaEvaluation.evaluator == EVALUATOR)
                          .limit(1)) is not None


RATE = 8000


@lru_cache(maxsize=4)
def _frames(pitch: float) -> bytes:
    return b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * pitch * n / RATE)))
                    for n in range(int(TONE_S * RATE)))


def _tone(path: Path, rng: random.Random) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(_frames(rng.choice((330.0, 392.0, 440.0))))


def generate(session: Session, paths: Paths, tz: str, now: datetime,
             calls: Sequence[tuple[int, str, str, str, datetime, float, str | None]],
             seed: int = 311, per_agent: int = PER_AGENT, scored: float = 0.8) -> int:
    """Catalog rows, samples and evaluations for answered ``calls`` (call id, uniqueid,
    queue, agent, answered_at, talk_s, ticket number); returns the evaluations written."""
    if present(session) or not calls:
        return 0
    rng = random.Random(seed)
    by_month: dict[tuple[str, str], list[int]] = defaultdict(list)
    for k, c in enumerate(calls):
        by_month[(month_of(c[4], tz), c[3])].append(k)
    sampled = {k: month for (month, _), ks in sorted(by_month.items())
               for k in rng.sample(ks, min(per_agent, len(ks)))}
    rows = []
    for k, (cid, uid, queue, agent, at, talk, number) in enumerate(calls):
        row = {"uniqueid": uid, "call_id": cid, "queue": queue, "agent": agent,
               "ticket_number": number, "started_at": at, "talk_s": talk,
               "status": RecordingStatus.SKIPPED.value, "detail": NO_AUDIO, "path": None,
               "duration_s": None, "size_bytes": None, "sha256": None, "catalogued_at": at,
               "legal_hold": False, "hold_reason": ""}
        if k in sampled:
            relative = paths.relative(uid, at)
            _tone(paths.absolute(relative), rng)
            facts = inspect(paths.absolute(relative))
            row.update(status=RecordingStatus.OK.value, detail=STAND_IN, path=relative,
                       duration_s=facts.duration_s, size_bytes=facts.size_bytes,
                       sha256=facts.sha256)
        rows.append(row)
    conn = session.connection()
    for i in range(0, len(rows), 5000):
        bulk.insert_rows(conn, Recording.__table__, FIELDS, rows[i:i + 5000])  # type: ignore[arg-type]
    form = ensure_default_form(session, now)
    criteria = criteria_of(form)
    wanted = {calls[k][1]: month for k, month in sampled.items()}
    recs = session.scalars(select(Recording).where(Recording.uniqueid.in_(list(wanted)))
                           .order_by(Recording.started_at)).all()
    done = 0
    for rec in recs:
        assert rec.agent is not None
        session.add(QaSample(month=wanted[rec.uniqueid], agent=rec.agent,
                             recording_id=rec.id, drawn_at=rec.started_at))
        if rng.random() < scored:
            skill = rng.uniform(0.55, 1.0)
            points = {c.name: max(0, min(c.max_points, round(c.max_points * skill
                                                            + rng.uniform(-1, 1))))
                      for c in criteria}
            when = min(now, rec.started_at + timedelta(days=rng.uniform(1, 6)))
            evaluate(session, rec, form, EVALUATOR, points, rng.choice(COMMENTS), when)
            done += 1
    session.flush()
    return done
