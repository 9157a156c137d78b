"""The QA side of a made-up past: a catalog row for every answered call of the generated
history, monthly QA samples per agent, evaluations of most of them on the standard form, a
closed calibration session, and post-call survey answers on the queues that ask.

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
from recordings.models import (
    CalibrationSession,
    QaEvaluation,
    QaForm,
    QaSample,
    Recording,
    RecordingStatus,
    SurveyResponse,
)
from recordings.qa.queries import criteria_of, ensure_default_form, evaluate
from recordings.qa.rules import Criterion, month_of
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
             seed: int = 311, per_agent: int = PER_AGENT, scored: float = 0.8,
             survey_queues: Sequence[str] = (), evaluators: Sequence[str] = ()) -> int:
    """Catalog rows, samples and evaluations for answered ``calls`` (call id, uniqueid,
    queue, agent, answered_at, talk_s, ticket number), survey answers for those on
    ``survey_queues``, and one calibration of a sampled call by ``EVALUATOR`` and
    ``evaluators``; returns the evaluations written (calibration ones excluded)."""
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
            points = _points(criteria, rng, rng.uniform(0.55, 1.0))
            when = min(now, rec.started_at + timedelta(days=rng.uniform(1, 6)))
            evaluate(session, rec, form, EVALUATOR, points, rng.choice(COMMENTS), when)
            done += 1
    if recs and evaluators:
        _calibration(session, recs[len(recs) // 2], form, [EVALUATOR, *evaluators], rng, now)
    _surveys(session, calls, survey_queues, rng)
    session.flush()
    return done


def _points(criteria: list[Criterion], rng: random.Random, skill: float) -> dict[str, int]:
    return {c.name: max(0, min(c.max_points, round(c.max_points * skill + rng.uniform(-1, 1))))
            for c in criteria}


def _calibration(session: Session, rec: Recording, form: QaForm, who: Sequence[str],
                 rng: random.Random, now: datetime) -> None:
    """Several evaluators score the same call; the session is closed after."""
    at = min(now, rec.started_at + timedelta(days=7))
    cal = CalibrationSession(recording_id=rec.id, form_id=form.id, created_by=EVALUATOR,
                             title="Monthly calibration", created_at=at)
    session.add(cal)
    session.flush()
    skill = rng.uniform(0.6, 0.9)
    for k, evaluator in enumerate(who):
        evaluate(session, rec, form, evaluator, _points(criteria_of(form), rng, skill),
                 "Calibration scoring.", at + timedelta(hours=k), cal)
    cal.closed_at = at + timedelta(days=2)


SURVEY_FIELDS = ("uniqueid", "queue", "agent", "score", "language", "at")
SCORES = ((5, 45), (4, 25), (3, 12), (2, 6), (1, 7), (None, 5))


def _surveys(session: Session, calls: Sequence[tuple[int, str, str, str, datetime, float,
                                                    str | None]],
             queues: Sequence[str], rng: random.Random, asked: float = 0.35) -> None:
    """About a third of the callers on a survey queue stay on the line to rate the call."""
    rows = []
    for _, uid, queue, agent, at, talk, _ in calls:
        if queue in queues and rng.random() < asked:
            rows.append({"uniqueid": uid, "queue": queue, "agent": agent,
                         "score": rng.choices([v for v, _ in SCORES], [w for _, w in SCORES])[0],
                         "language": "es" if rng.random() < 0.15 else "en",
                         "at": at + timedelta(seconds=talk + 20)})
    conn = session.connection()
    for i in range(0, len(rows), 5000):
        bulk.insert_rows(conn, SurveyResponse.__table__, SURVEY_FIELDS,  # type: ignore[arg-type]
                         rows[i:i + 5000])
