"""A call's recording, QA evaluations and survey answer, for the call timeline."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.models import CallRecord
from acd.timeline import Facet, Step
from foundation.users import Role
from recordings.models import QaEvaluation, Recording, SurveyResponse
from recordings.web import LISTENERS


def recording_facet(s: Session, call: CallRecord, role: str) -> Facet | None:
    """The recording (a link only for roles that may hear it), its scores, the survey."""
    rec = s.scalar(select(Recording).where(Recording.uniqueid == call.uniqueid))
    survey = s.scalar(select(SurveyResponse).where(SurveyResponse.uniqueid == call.uniqueid))
    if rec is None and survey is None:
        return None
    facts: list[tuple[str, str]] = []
    steps: list[Step] = []
    if rec is not None:
        may_hear = role in LISTENERS or role == Role.ADMIN  # admin may do anything
        facts.append(("Recording", rec.status + (f", {rec.duration_s:.0f} s"
                                                 if rec.duration_s else "")))
        href = url_for("recordings.detail", rid=rec.id) if may_hear else None
        steps.append(Step(rec.started_at, "recording " + rec.status
                          + ("" if may_hear else " (your role may not hear recordings)"), href))
        for ev in s.scalars(select(QaEvaluation).where(QaEvaluation.recording_id == rec.id)):
            facts.append(("QA score", f"{ev.score_pct:.0f} % by {ev.evaluator}"))
            steps.append(Step(ev.submitted_at, f"QA evaluation: {ev.score_pct:.0f} %"))
    if survey is not None:
        score = "no answer" if survey.score is None else f"{survey.score} of 5"
        facts.append(("Survey", score))
        steps.append(Step(survey.at, f"post-call survey: {score}"))
    return Facet("Recording and quality", facts, steps)
