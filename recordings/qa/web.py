"""QA pages: the month's random samples, scoring a call while listening, forms (admin),
agent and team scores with trends, calibration sessions with their spread."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from foundation.auth import current_user, roles
from foundation.db import Database, utcnow
from foundation.settings import Settings
from foundation.users import Role
from foundation.web import Mount, id_value, local_time
from recordings import survey
from recordings.models import (
    CalibrationSession,
    QaEvaluation,
    QaForm,
    QaSample,
    Recording,
)
from recordings.qa import queries as qa_queries
from recordings.qa.rules import Criterion, QaError, month_of, monthly_means, spread, trend
from recordings.qa.sampling import PER_AGENT, draw_month

EVALUATORS = (Role.QA, Role.SUPERVISOR)


def _username() -> str:
    user = current_user()
    assert user is not None
    return user.username


def _criteria_from_form() -> list[Criterion]:
    out = []
    i = 0
    while f"name-{i}" in request.form:
        name = request.form.get(f"name-{i}", "").strip()
        if name:
            try:
                weight = float(request.form.get(f"weight-{i}", ""))
                max_points = int(request.form.get(f"max-{i}", ""))
            except ValueError as exc:
                raise QaError(f"{name}: weight and maximum points must be numbers") from exc
            out.append(Criterion(name, weight, max_points, request.form.get(f"desc-{i}", "")))
        i += 1
    return out


def create_blueprints(settings: Settings, db: Database) -> list[Mount]:
    """The blueprint, its views closing over the settings and database passed in."""
    bp = Blueprint("qa", __name__, url_prefix="/qa", template_folder="../templates")
    local = local_time(settings.timezone)

    @bp.route("/")
    @roles(*EVALUATORS)
    def index() -> Any:
        month = request.args.get("month") or month_of(utcnow(), settings.timezone)
        with db.session() as s:
            rows = s.execute(select(QaSample, Recording).join(Recording, Recording.id ==
                                                              QaSample.recording_id)
                             .where(QaSample.month == month)
                             .order_by(QaSample.agent, Recording.started_at)).all()
            scored = set(s.scalars(select(QaEvaluation.recording_id)
                                   .where(QaEvaluation.calibration_id.is_(None))))
        by_agent: dict[str, list[Any]] = defaultdict(list)
        for sample, rec in rows:
            by_agent[sample.agent].append({"rec": rec, "scored": rec.id in scored})
        return render_template("qa/index.html", month=month, by_agent=by_agent, local=local,
                               per_agent=PER_AGENT)

    @bp.route("/sample", methods=["POST"])
    @roles(*EVALUATORS)
    def sample() -> Any:
        month = request.form.get("month") or month_of(utcnow(), settings.timezone)
        try:
            per_agent = int(request.form.get("per_agent") or PER_AGENT)
            if not 1 <= per_agent <= 50:
                raise ValueError
            year, mon = month.split("-")
            if len(year) != 4 or not 1 <= int(mon) <= 12:
                raise ValueError
        except ValueError:
            flash("Give a month as YYYY-MM and 1 to 50 calls per agent.", "error")
            return redirect(url_for("qa.index"))
        with db.session() as s:
            added = draw_month(s, utcnow(), settings.timezone, month, per_agent)
        flash(f"{added} call(s) drawn for {month}.", "ok")
        return redirect(url_for("qa.index", month=month))

    # ---- forms (admin) ---------------------------------------------------------------------------
    @bp.route("/forms", methods=["GET", "POST"])
    @roles()
    def forms() -> Any:
        if request.method == "POST":
            try:
                with db.session() as s:
                    form = qa_queries.create_form(s, request.form.get("name", ""), _username(),
                                              utcnow())
                    fid = form.id
            except QaError as exc:
                flash(str(exc), "error")
                return redirect(url_for("qa.forms"))
            return redirect(url_for("qa.form_edit", fid=fid))
        with db.session() as s:
            rows = list(s.scalars(select(QaForm).order_by(QaForm.name)))
            counts = {f.id: len(f.criteria) for f in rows}
        return render_template("qa/forms.html", forms=rows, counts=counts)

    @bp.route("/forms/<int:fid>", methods=["GET", "POST"])
    @roles()
    def form_edit(fid: int) -> Any:
        if request.method == "POST":
            try:
                rows = _criteria_from_form()
                with db.session() as s:
                    form = s.get(QaForm, fid)
                    if form is None:
                        abort(404)
                    qa_queries.replace_criteria(s, form, rows, request.form.get("active") == "on",
                                              _username(), utcnow())
            except QaError as exc:
                flash(f"Not saved: {exc}", "error")
                return redirect(url_for("qa.form_edit", fid=fid))
            flash("Form saved.", "ok")
            return redirect(url_for("qa.form_edit", fid=fid))
        with db.session() as s:
            form = s.get(QaForm, fid)
            if form is None:
                abort(404)
            criteria = list(form.criteria)
        return render_template("qa/form_edit.html", form=form, criteria=criteria)

    # ---- scoring ---------------------------------------------------------------------------------
    @bp.route("/evaluate/<int:rid>", methods=["GET", "POST"])
    @roles(*EVALUATORS)
    def evaluate(rid: int) -> Any:
        calibration_id = id_value(request.values.get("calibration"))
        with db.session() as s:
            rec = s.get(Recording, rid)
            if rec is None:
                abort(404)
            calibration = s.get(CalibrationSession, calibration_id) if calibration_id else None
            if calibration_id and calibration is None:
                abort(404)
            forms = qa_queries.active_forms(s) or [qa_queries.ensure_default_form(s, utcnow())]
            form_id = calibration.form_id if calibration else id_value(request.values.get("form"))
            form = s.get(QaForm, form_id) if form_id else forms[0]
            if form is None:
                abort(404)
            if request.method == "POST":
                try:
                    points = {}
                    for c in form.criteria:
                        raw = request.form.get(f"c{c.id}", "")
                        if not raw.isdigit():
                            raise QaError(f"{c.name}: choose the points")
                        points[c.name] = int(raw)
                    ev = qa_queries.evaluate(s, rec, form, _username(), points,
                                           request.form.get("comment", ""), utcnow(), calibration)
                    eid = ev.id
                except QaError as exc:
                    s.rollback()
                    flash(f"Not saved: {exc}", "error")
                    return redirect(url_for("qa.evaluate", rid=rid, form=form.id,
                                            calibration=calibration_id))
                flash(f"Scored {ev.score_pct:.1f}%.", "ok")
                if calibration:
                    return redirect(url_for("qa.calibration", cid=calibration.id))
                return redirect(url_for("qa.evaluation", eid=eid))
            criteria = list(form.criteria)
        return render_template("qa/evaluate.html", rec=rec, form=form, forms=forms,
                               criteria=criteria, calibration=calibration, local=local)

    @bp.route("/evaluations/<int:eid>")
    @roles(*EVALUATORS)
    def evaluation(eid: int) -> Any:
        with db.session() as s:
            ev = s.get(QaEvaluation, eid)
            if ev is None:
                abort(404)
            scores = list(ev.scores)
            rec = s.get(Recording, ev.recording_id)
        return render_template("qa/evaluation.html", ev=ev, scores=scores, rec=rec, local=local)

    @bp.route("/scores")
    @roles(*EVALUATORS)
    def scores() -> Any:
        """Mean QA score by agent and by team (the queue of the scored calls), by the month of
        the calls."""
        with db.session() as s:
            rows = s.execute(select(QaEvaluation.agent, Recording.queue, Recording.started_at,
                                    QaEvaluation.score_pct)
                             .join(Recording, Recording.id == QaEvaluation.recording_id)
                             .where(QaEvaluation.calibration_id.is_(None))).all()
        tz = settings.timezone
        agents = monthly_means((a, month_of(at, tz), sc) for a, _, at, sc in rows)
        teams = monthly_means((q, month_of(at, tz), sc) for _, q, at, sc in rows)
        overall = monthly_means(("all agents", month_of(at, tz), sc) for _, _, at, sc in rows)
        months = sorted({m for table in (agents, teams) for ms in table.values() for m in ms})[-12:]
        return render_template("qa/scores.html", agents=agents, teams=teams, overall=overall,
                               months=months, trend=trend)

    # ---- calibration -----------------------------------------------------------------------------
    @bp.route("/calibrations", methods=["GET", "POST"])
    @roles(*EVALUATORS)
    def calibrations() -> Any:
        if request.method == "POST":
            rid = id_value(request.form.get("recording"))
            title = (request.form.get("title") or "").strip()
            with db.session() as s:
                rec = s.get(Recording, rid) if rid else None
                form = s.get(QaForm, id_value(request.form.get("form")) or 0)
                if rec is None or rec.path is None or rec.agent is None:
                    flash("Choose a recorded call (its catalog number) with an agent.", "error")
                    return redirect(url_for("qa.calibrations"))
                if form is None or not title:
                    flash("Choose a form and give the session a title.", "error")
                    return redirect(url_for("qa.calibrations"))
                cal = CalibrationSession(recording_id=rec.id, form_id=form.id, title=title,
                                         created_by=_username(), created_at=utcnow())
                s.add(cal)
                s.flush()
                cid = cal.id
            return redirect(url_for("qa.calibration", cid=cid))
        with db.session() as s:
            sessions = list(s.scalars(select(CalibrationSession)
                                      .order_by(CalibrationSession.id.desc()).limit(100)))
            forms = qa_queries.active_forms(s) or [qa_queries.ensure_default_form(s, utcnow())]
        return render_template("qa/calibrations.html", sessions=sessions, forms=forms, local=local)

    @bp.route("/calibrations/<int:cid>")
    @roles(*EVALUATORS)
    def calibration(cid: int) -> Any:
        with db.session() as s:
            cal = s.get(CalibrationSession, cid)
            if cal is None:
                abort(404)
            evals = list(s.scalars(select(QaEvaluation).where(QaEvaluation.calibration_id == cid)
                                   .order_by(QaEvaluation.id)))
            per_criterion: dict[str, list[float]] = defaultdict(list)
            for ev in evals:
                for sc in ev.scores:
                    per_criterion[sc.criterion].append(100.0 * sc.points / sc.max_points)
            mine = any(ev.evaluator == _username() for ev in evals)
        total = spread(ev.score_pct for ev in evals)
        crit = {name: spread(vals) for name, vals in per_criterion.items()}
        return render_template("qa/calibration.html", cal=cal, evals=evals, total=total, crit=crit,
                               mine=mine, local=local)

    @bp.route("/calibrations/<int:cid>/close", methods=["POST"])
    @roles(*EVALUATORS)
    def calibration_close(cid: int) -> Any:
        with db.session() as s:
            cal = s.get(CalibrationSession, cid)
            if cal is None:
                abort(404)
            if cal.closed_at is None:
                cal.closed_at = utcnow()
        flash("Calibration session closed.", "ok")
        return redirect(url_for("qa.calibration", cid=cid))

    @bp.route("/surveys")
    @roles(*EVALUATORS)
    def surveys() -> Any:
        """Post-call survey results by agent and by queue over the last ``days`` (default 30)."""
        try:
            days = max(1, min(366, int(request.args.get("days", "30"))))
        except ValueError:
            abort(400)
        end = utcnow()
        start = end - timedelta(days=days)
        with db.session() as s:
            by_agent = survey.results(s, start, end, "agent")
            by_queue = survey.results(s, start, end, "queue")
        return render_template("qa/surveys.html", days=days, by_agent=by_agent, by_queue=by_queue,
                               queues=[q.name for q in settings.queues if q.survey])

    return [Mount(bp)]
