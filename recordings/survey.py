"""Post-call survey: after the agent hangs up, the caller rates the call 1-5 by keypad.

Per queue (``QueueDef.survey``): the dialplan queues with option ``c`` (continue when the agent
hangs up) and sends the caller to the FastAGI route ``survey`` with the queue and the agent
(``MEMBERNAME``); on Twilio the Dial action redirects the caller to the TwiML of
``recordings/twilio_survey.py``, which asks the same and stores with ``record``. One row per
call, also when the caller pressed nothing valid, so the response rate is known. Results by
agent and by queue on ``/qa/surveys``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foundation.db import Database
from ivr.prompts import PromptCache
from recordings.models import LANGUAGE_LEN, NAME_LEN, SurveyResponse
from telephony.fastagi import AgiChannel
from telephony.install import Install

log = logging.getLogger(__name__)

KEYS = "12345"
ASK_TIMEOUT_MS = 6000
TEXTS = {
    "en": {"ask": "Before you go: how well were you served today? Press 1 for poor, up to 5 "
                  "for excellent.",
           "again": "Please press a key from 1 to 5.",
           "thanks": "Thank you for your feedback. Goodbye."},
    "es": {"ask": "Antes de colgar: ¿cómo le atendimos hoy? Oprima 1 si fue malo, hasta 5 si "
                  "fue excelente.",
           "again": "Por favor oprima una tecla del 1 al 5.",
           "thanks": "Gracias por su opinión. Adiós."},
}


def score_of(keys: str) -> int | None:
    """The rating a key means, None for anything else (0, *, #, nothing)."""
    return int(keys) if len(keys) == 1 and keys in KEYS else None


def record(db: Database, uniqueid: str, queue: str, agent: str, score: int | None,
           language: str, at: datetime) -> bool:
    """Store one response; False when this call already has one (a retried AGI, a repeated
    Twilio webhook). A call asked but not yet rated (Twilio stores the question before the
    key, so a caller who hangs up mid-survey is counted) takes its first rating."""
    try:
        with db.session() as s:
            s.add(SurveyResponse(uniqueid=uniqueid, queue=queue[:NAME_LEN], agent=agent[:NAME_LEN],
                                 score=score, language=language[:LANGUAGE_LEN], at=at))
    except IntegrityError:
        if score is None:
            return False
        with db.session() as s:
            row = s.scalar(select(SurveyResponse).where(SurveyResponse.uniqueid == uniqueid,
                                                        SurveyResponse.score.is_(None)))
            if row is None:
                return False
            row.score, row.at = score, at
    return True


class SurveyAgi:
    """The FastAGI route ``survey``: arguments queue, agent."""

    def __init__(self, db: Database, install: Install,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db = db
        self.clock = clock
        self.prompts = PromptCache.of(install)

    async def __call__(self, channel: AgiChannel) -> None:
        queue = channel.headers.get("agi_arg_1", "")
        agent = channel.headers.get("agi_arg_2", "")
        language = channel.headers.get("agi_language", "en")
        language = language if language in TEXTS else "en"
        score: int | None = None
        try:
            for prompt in ("ask", "again"):
                sound = await self.prompts.sound(language, TEXTS[language][prompt])
                keys = await channel.stream_file(sound, KEYS) or ""
                keys = keys or await channel.wait_for_digit(ASK_TIMEOUT_MS) or ""
                score = score_of(keys)
                if score is not None:
                    break
        finally:  # a caller who hangs up mid-survey was asked all the same
            await asyncio.to_thread(record, self.db, channel.uniqueid, queue, agent, score,
                                    language, self.clock())
            log.info("survey %s: agent %s in %s rated %s", channel.uniqueid, agent, queue,
                     score)
        await channel.stream_file(await self.prompts.sound(language, TEXTS[language]["thanks"]))


@dataclass(frozen=True)
class SurveyStats:
    """Responses of a group (an agent or a queue): asked, rated, average, 1..5 counts."""

    name: str
    asked: int
    rated: int
    average: float | None
    counts: tuple[int, int, int, int, int]

    @property
    def response_rate(self) -> float | None:
        return self.rated / self.asked if self.asked else None


def results(session: Session, start: datetime, end: datetime,
            by: str) -> list[SurveyStats]:
    """Survey results in [start, end) grouped ``by`` "agent" or "queue", best average first."""
    column = SurveyResponse.agent if by == "agent" else SurveyResponse.queue
    rows = session.execute(
        select(column, SurveyResponse.score, func.count())
        .where(SurveyResponse.at >= start, SurveyResponse.at < end)
        .group_by(column, SurveyResponse.score))
    groups: dict[str, list[int]] = {}
    asked: dict[str, int] = {}
    for name, score, n in rows:
        asked[name] = asked.get(name, 0) + n
        counts = groups.setdefault(name, [0] * 5)
        if score is not None:
            counts[score - 1] += n
    out = []
    for name, counts in groups.items():
        rated = sum(counts)
        total = sum((i + 1) * c for i, c in enumerate(counts))
        out.append(SurveyStats(name, asked[name], rated, total / rated if rated else None,
                               (counts[0], counts[1], counts[2], counts[3], counts[4])))
    return sorted(out, key=lambda st: (-(st.average or 0), st.name))
