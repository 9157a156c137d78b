"""Report pages: queue figures per interval (from the rollups), by the center's definitions and
marked met / missed against the goals (``acd.goals``), and agent performance."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, render_template, request
from sqlalchemy import select

from acd import agent_time, definitions, goals, queries, rollup
from acd.metrics import Span, Summary, agent_stats, combine
from acd.models import CallRecord
from acd.states import AgentState
from foundation.auth import current_user, roles
from foundation.db import Database, utcnow
from foundation.settings import Settings
from foundation.timeparse import parse_day
from foundation.users import Role
from foundation.web import Mount

STATES = tuple(s for s in AgentState if s is not AgentState.LOGGED_OUT)


def _day(settings: Settings) -> tuple[date, datetime, datetime]:
    """The ``day`` query argument (default: today in the city), as local midnight bounds."""
    tz = ZoneInfo(settings.timezone)
    raw = request.args.get("day")
    try:
        day = parse_day(raw) if raw else utcnow().astimezone(tz).date()
    except ValueError:
        abort(400, description=f"day must be YYYY-MM-DD, not {raw!r}")
    start = datetime.combine(day, time(0), tzinfo=tz)
    return day, start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def _pct(v: float | None) -> str:
    return "" if v is None else f"{100 * v:.1f}"


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:.1f}"


def _mark(met: object) -> str:
    return "" if met is None else "met" if met else "missed"


def table_row(label: str, m: Summary, d: definitions.Definitions,
              g: goals.Goals) -> dict[str, Any]:
    """One line of the interval table: the figures by the center's definitions and the
    goals' marks (met / missed; empty when no call counts)."""
    marks = goals.marks(m, d, g)
    return {
        "start": label, "offered": m.offered, "answered": m.answered, "abandoned": m.abandoned,
        "short": m.short_abandoned, "not_served": m.not_served, "refused": m.refused,
        "callback": m.callback,
        "sl": _pct(m.service_level(g.answer_s, d.service_level)),
        "abandon_rate": _pct(m.abandon_rate(d.abandon_rate)), "refused_rate": _pct(m.refused_rate),
        "asa": _num(m.asa_s), "aht": _num(m.aht_s), "longest": _num(m.longest_wait_s),
        "sl_goal": _mark(marks["service_level"]["met"]),
        "abandon_goal": _mark(marks["abandon_rate"]["met"]),
        "asa_goal": _mark(marks["asa_s"]["met"]),
    }


CSV_COLUMNS = (("offered", "offered"), ("answered", "answered"), ("abandoned", "abandoned"),
               ("short_abandoned", "short"), ("not_served", "not_served"),
               ("refused", "refused"), ("callback", "callback"))


def create_blueprints(settings: Settings, db: Database) -> list[Mount]:
    """The report pages, bound to ``settings`` and ``db``."""
    bp = Blueprint("reports", __name__, template_folder="templates")

    @bp.route("/reports/intervals")
    @roles(Role.SUPERVISOR, Role.MANAGER)
    def intervals() -> Any:
        day, start, end = _day(settings)
        try:
            minutes = int(request.args.get("minutes", "30"))
            queue = request.args.get("queue") or None
            if queue and queue not in settings.queue_names():
                raise ValueError(f"unknown queue {queue!r}")
            with db.session() as s:
                rows = rollup.intervals(s, start, end, minutes, queue, settings.sl_thresholds_s,
                                       settings.short_abandon_s)
                as_of = rollup.computed_at(s)
        except ValueError as exc:
            abort(400, description=str(exc))
        tz = ZoneInfo(settings.timezone)
        d, g = definitions.from_settings(settings), goals.goals_for(settings, queue)
        table = [table_row(t.astimezone(tz).strftime("%H:%M"), m, d, g) for t, m in rows]
        total = table_row("Day", combine([m for _, m in rows], d.thresholds_s), d, g)
        if request.args.get("format") == "csv":
            out = io.StringIO()
            w = csv.writer(out, lineterminator="\n")
            t1 = g.answer_s
            w.writerow(["interval_start", *(name for name, _ in CSV_COLUMNS),
                        f"service_level_{t1}s_pct", "abandon_rate_pct", "refused_rate_pct",
                        "asa_s", "aht_s", "longest_wait_s", "service_level_goal",
                        "abandon_rate_goal", "asa_goal"])
            for (t, _), r in zip(rows, table, strict=True):
                w.writerow([t.astimezone(tz).isoformat(), *(r[k] for _, k in CSV_COLUMNS),
                            r["sl"], r["abandon_rate"], r["refused_rate"], r["asa"], r["aht"],
                            r["longest"], r["sl_goal"], r["abandon_goal"], r["asa_goal"]])
            name = f"intervals-{day}-{minutes}min{'-' + queue if queue else ''}.csv"
            return Response(out.getvalue(), mimetype="text/csv",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})
        return render_template("acd/intervals.html", settings=settings, user=current_user(),
                               day=day, minutes=minutes, queue=queue or "", table=table,
                               total=total, as_of=as_of, goals=g, definitions=d.as_dict())

    @bp.route("/reports/agents")
    @roles(Role.SUPERVISOR, Role.MANAGER)
    def agents() -> Any:
        day, start, end = _day(settings)
        until = min(end, utcnow())
        with db.session() as s:
            calls = [queries.facts(r) for r in s.scalars(select(CallRecord).where(
                CallRecord.entered_at >= start, CallRecord.entered_at < end,
                CallRecord.agent.is_not(None)))]
            # every node's spans as one timeline per agent (an agent shared by two nodes
            # counted once: ``span_merge``)
            spans = [Span(a, st, t0, t1)
                     for a, st, _, t0, t1 in agent_time.span_rows(s, start, end)]
        stats = agent_stats(calls, spans, start, until) if until > start else []
        return render_template("acd/agents.html", settings=settings, user=current_user(), day=day,
                               stats=stats, states=STATES, pct=_pct, num=_num)

    return [Mount(bp)]
