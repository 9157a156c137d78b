"""The service-request report page (``/crm/reports/requests``): backlog ageing past due by
agency and type, the top types and channels of the period, on-time closure, reopens and
escalations. Agency workers see their own agency's figures only."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, jsonify, render_template, request

from crm_bridge.tickets import reports
from crm_bridge.web.context import CrmWeb, agency_scope, user
from foundation.auth import roles
from foundation.db import utcnow
from foundation.timeparse import parse_day
from foundation.users import Role


def register(bp: Blueprint, web: CrmWeb) -> None:
    @bp.route("/crm/reports/requests")
    @roles(Role.MANAGER, Role.SUPERVISOR, Role.AGENCY)
    def requests_report() -> Any:
        tz = ZoneInfo(web.settings.timezone)
        now = utcnow()
        today = now.astimezone(tz).date()
        try:
            start = parse_day(request.args.get("from") or str(today - timedelta(days=30)))
            end = parse_day(request.args.get("to") or str(today))
        except ValueError:
            abort(400, description="from and to are dates, YYYY-MM-DD")
        if end < start or not date(2000, 1, 1) <= start <= date(2100, 1, 1):
            abort(400, description="the period must run forward, within 2000-2100")
        t0 = datetime.combine(start, time(), tz)
        t1 = datetime.combine(end + timedelta(days=1), time(), tz)
        scope = agency_scope(user())
        with web.db.session() as s:
            doc = {"from": start.isoformat(), "to": end.isoformat(), "agency": scope,
                   "backlog": reports.backlog(s, now, scope),
                   "received": reports.received(s, t0, t1, scope),
                   "outcomes": reports.outcomes(s, t0, t1, scope)}
        if request.args.get("format") == "json":
            return jsonify(doc)
        return render_template("crm/requests_report.html", doc=doc, bands=reports.BANDS,
                               start=start, end=end)
