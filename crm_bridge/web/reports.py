"""The service-request report pages: ``/crm/reports/requests`` (backlog ageing past due by
agency and type, the top types and channels of the period, on-time closure, reopens and
escalations) and ``/crm/reports/hotspots`` (a map and a table of where the period's requests
came from, by type). Agency workers see their own agency's figures only."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, jsonify, render_template, request
from sqlalchemy import select

from crm_bridge.models import ServiceType
from crm_bridge.tickets import backlog, hotspots, reports
from crm_bridge.web.context import CrmWeb, agency_scope, user
from crm_bridge.web.desktop import map_settings
from foundation.auth import roles
from foundation.db import utcnow
from foundation.timeparse import parse_day
from foundation.users import Role
from places.public import nearest

NAMED_SPOTS = 20  # the table names the nearest address of the busiest spots


def _period(tz: ZoneInfo, today: date) -> tuple[date, date]:
    """The ``from`` / ``to`` days of the query (default: the last 30 days), checked."""
    try:
        start = parse_day(request.args.get("from") or str(today - timedelta(days=30)))
        end = parse_day(request.args.get("to") or str(today))
    except ValueError:
        abort(400, description="from and to are dates, YYYY-MM-DD")
    if end < start or not date(2000, 1, 1) <= start <= date(2100, 1, 1):
        abort(400, description="the period must run forward, within 2000-2100")
    return start, end


def _bounds(tz: ZoneInfo, start: date, end: date) -> tuple[datetime, datetime]:
    return (datetime.combine(start, time(), tz),
            datetime.combine(end + timedelta(days=1), time(), tz))


def register(bp: Blueprint, web: CrmWeb) -> None:
    @bp.route("/crm/reports/requests")
    @roles(Role.MANAGER, Role.SUPERVISOR, Role.AGENCY)
    def requests_report() -> Any:
        tz = ZoneInfo(web.settings.timezone)
        now = utcnow()
        start, end = _period(tz, now.astimezone(tz).date())
        t0, t1 = _bounds(tz, start, end)
        scope = agency_scope(user())
        with web.db.session() as s:
            doc = {"from": start.isoformat(), "to": end.isoformat(), "agency": scope,
                   "backlog": reports.backlog(s, now, scope),
                   "received": reports.received(s, t0, t1, scope),
                   "outcomes": reports.outcomes(s, t0, t1, scope)}
        if request.args.get("format") == "json":
            return jsonify(doc)
        return render_template("crm/requests_report.html", doc=doc, bands=backlog.BANDS,
                               start=start, end=end)

    @bp.route("/crm/reports/hotspots")
    @roles(Role.MANAGER, Role.SUPERVISOR, Role.AGENCY)
    def hotspots_report() -> Any:
        tz = ZoneInfo(web.settings.timezone)
        start, end = _period(tz, utcnow().astimezone(tz).date())
        t0, t1 = _bounds(tz, start, end)
        code = (request.args.get("type") or "").strip()
        scope = agency_scope(user())
        with web.db.session() as s:
            types = s.execute(select(ServiceType.code, ServiceType.name)
                              .order_by(ServiceType.name)).all()
            if code and code not in {c for c, _ in types}:
                abort(400, description=f"no service type {code[:64]!r}")
            spots = hotspots.hotspots(s, t0, t1, scope, code or None)
            named = {sp.cell: match.text for sp in spots[:NAMED_SPOTS]
                     if (match := nearest(s, sp.lat, sp.long)) is not None}
        rows = [{"lat": sp.lat, "long": sp.long, "count": sp.count,
                 "types": [{"service_name": n, "count": c} for n, c in sp.types],
                 "near": named.get(sp.cell)}
                for sp in spots]
        doc = {"from": start.isoformat(), "to": end.isoformat(), "agency": scope,
               "type": code or None, "cell_m": hotspots.CELL_M,
               "requests": sum(sp.count for sp in spots), "spots": rows}
        if request.args.get("format") == "json":
            return jsonify(doc)
        return render_template("crm/hotspots.html", doc=doc, types=types, start=start,
                               end=end, map=map_settings(web), named=NAMED_SPOTS)
