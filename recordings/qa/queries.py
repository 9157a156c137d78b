"""QA repository functions: forms and criteria, evaluations, calibration sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from recordings.models import (
    CalibrationSession,
    QaCriterion,
    QaEvaluation,
    QaForm,
    QaScore,
    Recording,
)
from recordings.qa.rules import (
    DEFAULT_CRITERIA,
    DEFAULT_FORM,
    Criterion,
    QaError,
    validate_criteria,
    weighted_score,
)


def criteria_of(form: QaForm) -> list[Criterion]:
    return [Criterion(c.name, c.weight, c.max_points, c.description) for c in form.criteria]


def create_form(session: Session, name: str, by: str, now: datetime,
                criteria: list[Criterion] | None = None) -> QaForm:
    name = name.strip()
    if not name:
        raise QaError("the form needs a name")
    if session.scalar(select(QaForm).where(QaForm.name == name)) is not None:
        raise QaError(f"a form named {name!r} exists already")
    rows = validate_criteria(criteria or [Criterion(n, w, m, d) for n, w, m, d in DEFAULT_CRITERIA])
    form = QaForm(name=name, active=True, updated_at=now, updated_by=by)
    form.criteria = [QaCriterion(position=i, name=c.name, description=c.description,
                                 weight=c.weight, max_points=c.max_points)
                     for i, c in enumerate(rows)]
    session.add(form)
    session.flush()
    return form


def ensure_default_form(session: Session, now: datetime) -> QaForm:
    form = session.scalar(select(QaForm).where(QaForm.name == DEFAULT_FORM))
    return form or create_form(session, DEFAULT_FORM, "system", now)


def replace_criteria(session: Session, form: QaForm, rows: list[Criterion], active: bool,
                     by: str, now: datetime) -> None:
    """Validate first: a bad row changes nothing. Past evaluations keep their own weights."""
    valid = validate_criteria(rows)
    form.criteria.clear()
    session.flush()
    form.criteria.extend(QaCriterion(position=i, name=c.name, description=c.description,
                                     weight=c.weight, max_points=c.max_points)
                         for i, c in enumerate(valid))
    form.active, form.updated_by, form.updated_at = active, by, now
    session.flush()


def active_forms(session: Session) -> list[QaForm]:
    return list(session.scalars(
        select(QaForm).where(QaForm.active.is_(True)).order_by(QaForm.name)))


def evaluate(session: Session, rec: Recording, form: QaForm, evaluator: str,
             points: dict[str, int], comment: str, now: datetime,
             calibration: CalibrationSession | None = None) -> QaEvaluation:
    if rec.agent is None:
        raise QaError("this call has no agent to score")
    if rec.deleted_at is not None or rec.path is None:
        raise QaError("this call has no recording to listen to")
    if calibration is not None:
        if calibration.closed_at is not None:
            raise QaError("this calibration session is closed")
        if calibration.recording_id != rec.id or calibration.form_id != form.id:
            raise QaError("the calibration session is about another call or form")
        if session.scalar(select(QaEvaluation.id).where(
                QaEvaluation.calibration_id == calibration.id,
                QaEvaluation.evaluator == evaluator)) is not None:
            raise QaError("you have scored this calibration call already")
    criteria = criteria_of(form)
    score = weighted_score(criteria, points)
    ev = QaEvaluation(recording_id=rec.id, form_id=form.id, evaluator=evaluator,
                      agent=rec.agent, calibration_id=calibration.id if calibration else None,
                      score_pct=score, comment=comment.strip(), submitted_at=now)
    ev.scores = [QaScore(criterion=c.name, weight=c.weight, points=points[c.name],
                         max_points=c.max_points) for c in criteria]
    session.add(ev)
    session.flush()
    return ev
