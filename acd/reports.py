"""Report pages: queue figures per interval (from the rollups) and agent performance."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, render_template, request
from sqlalchemy import or_, select

from acd import queries, rollup
from acd.metrics import Span, agent_stats
from acd.models import AgentStateSpan, CallRecord
from acd.states import AgentState
from foundation.auth import current_user, roles
from foundation.db import Database, utcnow
from foundation.settings import Settings
from foundation.users import Role
from foundation.web import Mount

STATES = tuple(s for s in AgentState if s is not AgentState.LOGGED_OUT)


def _day(settings: Settings) -> tuple[date, datetime, datetime]:
    """The ``day`` query argument (default: today in the city), as local midnight bounds."""
    tz = ZoneInfo(settings.timezone)
    raw = request.args.get("day")
    try:
        day = date.fromisoformat(raw) if raw else utcnow().astimezone(tz).date()
    except ValueError:
        abort(400, description=f"day must be YYYY-MM-DD, not {raw!r}")
    start = datetime.combine(day, time(0), tzinfo=tz)
    return day, start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def _pct(v: float | None) -> str:
    return "" if v is None else f"{100 * v:.1f}"


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:.1f}"


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
        t1 = settings.sl_thresholds_s[0]
        table = [{
            "start": t.astimezone(tz).strftime("%H:%M"), "offered": m.offered,
            "answered": m.answered, "abandoned": m.abandoned, "short": m.short_abandoned,
            "other": m.timed_out + m.exit_key + m.exit_empty + m.refused + m.callback + m.dropped,
            "sl": _pct(m.service_level(t1)), "abandon_rate": _pct(m.abandon_rate),
            "asa": _num(m.asa_s), "aht": _num(m.aht_s), "longest": _num(m.longest_wait_s),
        } for t, m in rows]
        if request.args.get("format") == "csv":
            out = io.StringIO()
            w = csv.writer(out, lineterminator="\n")
            w.writerow(["interval_start", "offered", "answered", "abandoned", "short_abandoned",
                        "other", f"service_level_{t1}s_pct", "abandon_rate_pct", "asa_s", "aht_s",
                        "longest_wait_s"])
            for (t, _), r in zip(rows, table, strict=True):
                w.writerow([t.astimezone(tz).isoformat(), r["offered"], r["answered"],
                            r["abandoned"], r["short"], r["other"], r["sl"], r["abandon_rate"],
                            r["asa"], r["aht"], r["longest"]])
            name = f"intervals-{day}-{minutes}min{'-' + queue if queue else ''}.csv"
            return Response(out.getvalue(), mimetype="text/csv",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})
        return render_template("acd/intervals.html", settings=settings, user=current_user(),
                               day=day, minutes=minutes, queue=queue or "", table=table,
                               as_of=as_of, threshold=t1)

    @bp.route("/reports/agents")
    @roles(Role.SUPERVISOR, Role.MANAGER)
    def agents() -> Any:
        day, start, end = _day(settings)
        until = min(end, utcnow())
        with db.session() as s:
            calls = [queries.facts(r) for r in s.scalars(select(CallRecord).where(
                CallRecord.entered_at >= start, CallRecord.entered_at < end,
                CallRecord.agent.is_not(None)))]
            spans = [Span(sp.agent, sp.state, sp.started_at, sp.ended_at) for sp in s.scalars(
                select(AgentStateSpan).where(
                    AgentStateSpan.started_at < end,
                    or_(AgentStateSpan.ended_at.is_(None), AgentStateSpan.ended_at > start)))]
        stats = agent_stats(calls, spans, start, until) if until > start else []
        return render_template("acd/agents.html", settings=settings, user=current_user(), day=day,
                               stats=stats, states=STATES, pct=_pct, num=_num)

    return [Mount(bp)]
