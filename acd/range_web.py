"""``/reports/calls``: the call report over any range (``acd.range_report``), as a page,
CSV (one row per period) or JSON; IVR containment by option comes from the IVR through the
``self_service`` function the composition root hands in, callbacks requested vs completed
through its ``callbacks`` count (``ivr.callback.tally``)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, jsonify, render_template, request

from acd import definitions, goals, range_report
from acd.metrics import combine
from acd.range_report import CALLBACK_COUNTS, PERIODS, CallbackTally, Range
from acd.reports import table_row
from acd.wallboard import SelfService
from foundation.auth import roles
from foundation.db import Database, utcnow
from foundation.erasure import caller_key
from foundation.settings import Settings
from foundation.users import Role
from foundation.web import Mount

MAX_DAYS = 3 * 366 + 1
LABELS = {"day": "%a %Y-%m-%d", "week": "week of %Y-%m-%d", "month": "%B %Y", "year": "%Y"}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _range(settings: Settings) -> tuple[Range, str, str | None, int]:
    tz = ZoneInfo(settings.timezone)
    today = utcnow().astimezone(tz).date()
    a = request.args
    try:
        month_ago = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        first = date.fromisoformat(a.get("from") or str(month_ago))  # last month and this
        last = date.fromisoformat(a.get("to") or str(today))
        repeat_days = int(a.get("repeat_days") or 7)
    except ValueError as exc:
        abort(400, description=f"from/to are dates (YYYY-MM-DD), repeat_days a number: {exc}")
    by = a.get("by") or "day"
    queue = a.get("queue") or None
    if by not in PERIODS:
        abort(400, description=f"by must be one of {', '.join(PERIODS)}")
    if queue and queue not in settings.queue_names():
        abort(400, description=f"unknown queue {queue!r}")
    if not (date(2000, 1, 1) <= first <= last <= date(2100, 1, 1)) or \
            (last - first).days > MAX_DAYS:
        abort(400, description="the range must run forward, within 2000-2100, at most 3 years")
    if not 1 <= repeat_days <= 90:
        abort(400, description="repeat_days: 1 to 90")
    return Range(first, last, settings.timezone), by, queue, repeat_days


def create_blueprints(settings: Settings, db: Database,
                      self_service: SelfService | None = None,
                      callbacks: CallbackTally | None = None) -> list[Mount]:
    bp = Blueprint("range_report", __name__, template_folder="templates")

    @bp.route("/reports/calls")
    @roles(Role.SUPERVISOR, Role.MANAGER)
    def calls_report() -> Any:
        r, by, queue, repeat_days = _range(settings)
        d, g = definitions.from_settings(settings), goals.goals_for(settings, queue)
        with db.session() as s:
            periods = range_report.summaries(s, r, by, queue, d)
            before = range_report.summaries(s, r.a_year_before(), "year", queue, d)
            hours, days = range_report.profiles(s, r, queue, d)
            extra = {**range_report.breakdowns(s, r, queue),
                     "repeat_callers": range_report.repeat_callers(
                         s, r, queue, repeat_days, caller_key(settings.secret_key)),
                     "pause_by_reason_s": range_report.pause_by_reason(s, r)}
            ivr = self_service(s, *r.bounds()) if self_service and not queue else None
            cb = range_report.callbacks(s, r, by, queue, callbacks) if callbacks else None
        total = combine([m for _, m in periods], d.thresholds_s)
        last_year = combine([m for _, m in before], d.thresholds_s)
        rows = [table_row(p.strftime(LABELS[by]), m, d, g) for p, m in periods]
        if request.args.get("format") == "csv":
            out = io.StringIO()
            w = csv.writer(out, lineterminator="\n")
            keys = [k for k in rows[0] if k != "start"] if rows else []
            more = [f"callbacks_{k}" for k in CALLBACK_COUNTS] if cb else []
            w.writerow(["period_start", *keys, *more])
            for (p, _), row in zip(periods, rows, strict=True):
                w.writerow([p.isoformat(), *(row[k] for k in keys),
                            *(cb["by_period"][p][k] for k in CALLBACK_COUNTS if cb)])
            return Response(out.getvalue(), mimetype="text/csv")
        if request.args.get("format") == "json":
            return jsonify({
                "from": r.first.isoformat(), "to": r.last.isoformat(), "by": by, "queue": queue,
                "definitions": d.as_dict(),
                "periods": [{"start": p.isoformat(), **m.as_dict(d.service_level,
                                                                 d.abandon_rate),
                             **({"callbacks": cb["by_period"][p]} if cb else {})}
                            for p, m in periods],
                "total": total.as_dict(d.service_level, d.abandon_rate),
                "a_year_before": last_year.as_dict(d.service_level, d.abandon_rate),
                "by_hour": {h: m.as_dict(d.service_level, d.abandon_rate)["offered"]
                            for h, m in hours.items()},
                "by_weekday": {WEEKDAYS[w]: m.offered for w, m in days.items()},
                **extra, "ivr": ivr,
                "callbacks": {"total": cb["total"], "by_queue": cb["by_queue"]} if cb else None})
        peak = max((m.offered for m in hours.values()), default=0)
        return render_template(
            "acd/calls_report.html", span=r, by=by, queue=queue, rows=rows, periods=PERIODS,
            total=table_row("Total", total, d, g),
            last_year=table_row("A year before", last_year, d, g),
            hours=hours, days=[(WEEKDAYS[w], m) for w, m in days.items()], peak=peak,
            extra=extra, ivr=ivr, goals=g, callbacks=cb, callback_counts=CALLBACK_COUNTS,
            period_label=lambda p: p.strftime(LABELS[by]), settings=settings,
            repeat_days=repeat_days)

    return [Mount(bp)]
