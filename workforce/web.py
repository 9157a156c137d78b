"""Manager pages: forecasts vs actuals, required vs scheduled agents, schedules, accuracy of past
forecasts, and CSV exports of each."""

from __future__ import annotations

import csv
import io
import math
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup

from foundation.auth import roles
from foundation.db import Database, utcnow
from foundation.settings import Settings
from foundation.timeparse import parse_day
from foundation.users import Role
from foundation.web import Mount
from workforce import models, queries
from workforce.charts import Series, line_chart
from workforce.history import HistoryError, special_day
from workforce.planning import answer_threshold, compare


def _pct(value: float | None, signed: bool = False) -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:+.1%}" if signed else f"{value:.1%}"


def _csv(rows: list[list[Any]], header: list[str], filename: str) -> Response:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(header)
    out.writerows(rows)
    return Response(buf.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _num(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.6f}"


RISK_MAX_REPS = 100


def _risk_form(settings: Settings, f: Any, days: list[Any]) -> dict[str, Any]:
    """The simulation settings from the query string; ValueError names a bad one."""
    args = request.args
    form = {"day": args.get("day") or days[0].isoformat(),
            "answer_s": args.get("answer_s") or f"{answer_threshold(settings, f.queue):g}",
            "target": args.get("target") or "0.8", "patience_s": args.get("patience_s", "300"),
            "reps": args.get("reps") or "20"}
    try:
        day = parse_day(form["day"])
        answer_s, target = float(form["answer_s"]), float(form["target"])
        patience = float(form["patience_s"]) if form["patience_s"].strip() else None
        reps = int(form["reps"])
    except ValueError as exc:
        raise ValueError("day must be YYYY-MM-DD and the other fields numbers") from exc
    if day not in days:
        raise ValueError(f"{day} is not a day of this forecast")
    if not (0 <= answer_s < 3600 and 0 < target <= 1 and 1 <= reps <= RISK_MAX_REPS):
        raise ValueError(f"answer time 0-3600 s, target a share in (0, 1], runs 1-{RISK_MAX_REPS}")
    if patience is not None and not 0 < patience < 86400:
        raise ValueError("patience must be a number of seconds > 0 (blank: callers never hang up)")
    return {**form, "parsed": (day, answer_s, target, patience, reps)}


def create_blueprints(settings: Settings, db: Database) -> list[Mount]:
    """The blueprint, its views closing over the settings and database passed in."""
    bp = Blueprint("wfm", __name__, url_prefix="/wfm", template_folder="templates")

    def _accuracy_rows(queue: str | None) -> list[dict[str, Any]]:
        now, out = utcnow(), []
        with db.session() as s:
            for f in queries.forecasts(s, queue, limit=30):
                cmp = compare(s, f, now)
                out.append({"f": f, "cmp": cmp, "created": f.created_at.astimezone(
                    ZoneInfo(settings.timezone))})
        return out

    @bp.route("/")
    @roles(Role.MANAGER)
    def index() -> Any:
        queue = request.args.get("queue") or None
        return render_template("wfm/index.html", rows=_accuracy_rows(queue), queue=queue,
                               queues=settings.queue_names(), pct=_pct,
                               tz=ZoneInfo(settings.timezone))

    @bp.route("/accuracy.csv")
    @roles(Role.MANAGER)
    def accuracy_csv() -> Any:
        rows = [[r["f"].id, r["f"].queue, r["f"].created_at.isoformat(), r["f"].method,
                 _num(r["f"].backtest_wape), _num(r["f"].backtest_bias), r["cmp"].intervals,
                 _num(r["cmp"].wape), _num(r["cmp"].bias)]
                for r in _accuracy_rows(request.args.get("queue") or None)]
        return _csv(rows, ["forecast_id", "queue", "created_at", "method", "backtest_wape",
                           "backtest_bias", "elapsed_intervals", "actual_wape", "actual_bias"],
                    "wfm-accuracy.csv")

    def _load(forecast_id: int) -> tuple[Any, Any, Any]:
        with db.session() as s:
            f = s.get(models.WfmForecast, forecast_id)
            if f is None:
                abort(404)
            _ = f.intervals
            sched = queries.latest_schedule(s, f.id)
            if sched is not None:
                _ = sched.shifts, sched.coverage
            return f, sched, compare(s, f, utcnow())

    @bp.route("/forecasts/<int:forecast_id>")
    @roles(Role.MANAGER)
    def forecast(forecast_id: int) -> Any:
        tz = ZoneInfo(settings.timezone)
        f, sched, cmp = _load(forecast_id)
        labels = [s.astimezone(tz).strftime("%a %H:%M") for s in cmp.starts]
        volume = line_chart("Forecast vs actual calls per interval", labels, [
            Series("forecast", list(cmp.forecast), "#1f6fb2"),
            Series("actual", list(cmp.actual), "#d9822b")], "calls")
        required = [float(i.scheduled) if i.scheduled is not None else math.nan
                    for i in f.intervals]
        lines = [Series("required (scheduled heads)", required, "#b22222", step=True)]
        if sched is not None:
            lines.append(Series("scheduled", [c.scheduled for c in sched.coverage], "#2e8b57",
                                step=True, dashed=True))
        staffing = line_chart("Required vs scheduled agents", labels, lines, "agents")
        gaps = [c.scheduled - c.required for c in sched.coverage] if sched else []
        return render_template(
            "wfm/forecast.html", f=f, sched=sched, cmp=cmp, tz=tz, pct=_pct,
            volume_svg=Markup(volume), staffing_svg=Markup(staffing),  # charts escape their text
            under=sum(1 for g in gaps if g < -1e-9), over=sum(1 for g in gaps if g > 1e-9))

    @bp.route("/forecasts/<int:forecast_id>.csv")
    @roles(Role.MANAGER)
    def forecast_csv(forecast_id: int) -> Any:
        f, sched, cmp = _load(forecast_id)
        cover = {c.interval_start: c for c in sched.coverage} if sched else {}
        rows = []
        for k, i in enumerate(f.intervals):
            c = cover.get(i.interval_start)
            rows.append([i.interval_start.isoformat(), f"{i.calls:.2f}", _num(i.aht_s),
                         "" if i.agents is None else i.agents,
                         "" if i.scheduled is None else i.scheduled, _num(i.service_level),
                         "" if math.isnan(cmp.actual[k]) else f"{cmp.actual[k]:g}",
                         "" if c is None else f"{c.scheduled:.2f}",
                         "" if c is None else f"{c.scheduled - c.required:+.2f}"])
        return _csv(rows, ["interval_start", "calls", "aht_s", "agents", "scheduled",
                           "service_level", "actual_calls", "rostered", "over_under"],
                    f"wfm-forecast-{f.id}.csv")

    @bp.route("/schedules/<int:schedule_id>.csv")
    @roles(Role.MANAGER)
    def schedule_csv(schedule_id: int) -> Any:
        with db.session() as s:
            sched = s.get(models.WfmSchedule, schedule_id)
            if sched is None:
                abort(404)
            rows = [[x.template, x.starts_at.isoformat(), x.ends_at.isoformat(), x.breaks,
                     x.agents, f"{x.paid_hours:g}"] for x in sched.shifts]
        return _csv(rows, ["template", "start", "end", "breaks", "agents", "paid_hours"],
                    f"wfm-schedule-{schedule_id}.csv")

    @bp.route("/special-days", methods=["GET", "POST"])
    @roles(Role.MANAGER)
    def special_days() -> Any:
        """Holidays and storms: list, add or replace, remove (used by the next forecasts)."""
        if request.method == "POST":
            form = request.form
            queue = form.get("queue", "")
            if queue and queue not in settings.queue_names():
                flash(f"Unknown queue {queue!r}.", "error")
                return redirect(url_for("wfm.special_days"))
            try:
                sd = special_day(form.get("day", ""), form.get("kind", ""), form.get("factor", ""),
                                 form.get("note", ""))
            except HistoryError as exc:
                flash(f"Not saved: {exc}.", "error")
                return redirect(url_for("wfm.special_days"))
            with db.session() as s:
                if form.get("action") == "remove":
                    done = queries.remove_special_day(s, sd.day, queue)
                    flash(f"Removed {sd.day} for {queue or 'every queue'}." if done else
                          f"No special day {sd.day} for {queue or 'every queue'}.",
                          "info" if done else "error")
                else:
                    queries.put_special_days(s, [sd], queue)
                    flash(f"Saved {sd.day} ({sd.kind}) for {queue or 'every queue'}.", "info")
            return redirect(url_for("wfm.special_days"))
        with db.session() as s:
            rows = queries.special_day_rows(s)
        return render_template("wfm/special_days.html", rows=rows, queues=settings.queue_names())

    @bp.route("/forecasts/<int:forecast_id>/risk")
    @roles(Role.MANAGER)
    def risk(forecast_id: int) -> Any:
        """Discrete-event simulation of one day of the plan: spread of SL and abandonment."""
        from workforce.simulate import simulate_plan

        tz = ZoneInfo(settings.timezone)
        f, _sched, _cmp = _load(forecast_id)
        staffed = [i for i in f.intervals if i.agents is not None]
        days = sorted({i.interval_start.astimezone(tz).date() for i in staffed})
        if not days:
            abort(404)
        try:
            form = _risk_form(settings, f, days)
        except ValueError as exc:
            if not request.args:
                abort(400)  # the defaults themselves are unusable: no redirect loop
            flash(f"Cannot simulate: {exc}.", "error")
            return redirect(url_for("wfm.risk", forecast_id=f.id))
        day, answer_s, target, patience, reps = form["parsed"]
        rows = [i for i in staffed if i.interval_start.astimezone(tz).date() == day]
        ahts = [i.aht_s if i.aht_s and i.aht_s > 0 else 180.0 for i in rows]
        result = simulate_plan([i.calls for i in rows], [int(i.agents or 0) for i in rows], ahts,
                               patience, f.interval_minutes, answer_s, target, reps, seed=f.id)
        labels = [i.interval_start.astimezone(tz).strftime("%H:%M") for i in rows]
        busy = [r.offered_mean > 0 for r in result.intervals]

        def line(values: list[float]) -> list[float]:
            return [v if b else math.nan for v, b in zip(values, busy, strict=True)]

        sl_chart = line_chart("Service level per interval over the simulated runs", labels, [
            Series("10th percentile", line([r.sl_p10 for r in result.intervals]), "#b22222"),
            Series("mean", line([r.sl_mean for r in result.intervals]), "#1f6fb2"),
            Series("90th percentile", line([r.sl_p90 for r in result.intervals]), "#2e8b57"),
            Series(f"target {target:.0%}", [target] * len(rows), "#888888", dashed=True)],
            "share answered in time")
        ab_chart = line_chart("Abandonment per interval over the simulated runs", labels, [
            Series("mean", line([r.abandon_mean for r in result.intervals]), "#1f6fb2"),
            Series("90th percentile", line([r.abandon_p90 for r in result.intervals]), "#b22222")],
            "share abandoned")
        overall = result.overall_sl()
        return render_template(
            "wfm/risk.html", f=f, form=form, days=days, day=day, rows=list(zip(
                rows, labels, result.intervals, strict=True)), pct=_pct, reps=reps,
            patience=patience, sl_svg=Markup(sl_chart), ab_svg=Markup(ab_chart),
            overall_mean=float(overall.mean()), overall_p10=float(np.quantile(overall, 0.1)),
            day_miss=float(np.mean(overall < target)), target=target, answer_s=answer_s)

    return [Mount(bp)]
