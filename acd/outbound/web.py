"""Outbound calls on the web: the agent desktop's "call out" action (``/agent/outbound``)
and, for supervisors and managers, the list and report of outbound calls
(``/calls/outbound``, CSV too), kept apart from every inbound queue report."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request

from acd.outbound import originate, queries
from acd.outbound.models import OutboundCall, Purpose
from acd.referral_web import DESKTOP, back_to_desktop
from foundation.auth import current_user, roles
from foundation.db import Database
from foundation.settings import Settings
from foundation.timeparse import city_day, parse_instant
from foundation.users import Role
from foundation.web import Mount, local_time
from telephony.ami import AmiError
from telephony.trunk import config as trunk_config
from telephony.trunk.dial_policy import decide

CSV_FIELDS = ("id", "requested_at", "agent", "purpose", "number", "to_carrier", "caller_id",
              "kind", "queue", "started_at", "ended_at", "talk_s", "dial_status", "outcome")


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_blueprints(settings: Settings, db: Database) -> list[Mount]:
    bp = Blueprint("outbound", __name__, template_folder="../templates")
    local = local_time(settings.timezone)

    def wants_json() -> bool:
        return request.is_json or request.accept_mimetypes.best == "application/json"

    def agent_page(status: int = 200, message: str = "", error: bool = False) -> Any:
        user = current_user()
        ext = user.agent_ext if user else None
        start, end = city_day(utcnow().astimezone(_zone(settings)).date(), settings.timezone)
        with db.session() as s:
            mine = queries.between(s, start, end, agent=ext or "", limit=50)
            page = render_template("acd/outbound_agent.html", ext=ext, calls=mine,
                                   queues=settings.queues, purposes=list(Purpose),
                                   trunk=settings.trunk is not None, message=message,
                                   error=error, local=local)
        return page, status

    def refuse(status: int, error_id: str, description: str) -> Any:
        if wants_json():
            return jsonify(error=error_id, description=description), status
        if back_to_desktop(request.form):  # the desktop's form without JavaScript
            flash(f"Call not placed: {description}", "error")
            return redirect(f"{DESKTOP}#outbound"), 303
        return agent_page(status, description, error=True)

    @bp.route("/agent/outbound")
    @roles(Role.AGENT)
    def desk() -> Any:
        return agent_page()

    @bp.route("/agent/outbound", methods=["POST"])
    @roles(Role.AGENT)
    def call_out() -> Any:
        """Ring the agent's phone, then call the number (the dial policy decides first)."""
        form: dict[str, Any] = (request.get_json(silent=True) or {}) if request.is_json \
            else request.form.to_dict()
        user = current_user()
        ext = user.agent_ext if user else None
        if not ext or ext not in settings.agent_extensions:
            return refuse(400, "no_phone", "Your account has no agent phone to call from.")
        if settings.trunk is None:
            return refuse(409, "no_trunk", "No carrier trunk is configured: calls out are "
                                           "not possible.")
        decision = decide(str(form.get("number", "")), trunk_config.allowances(settings))
        if not decision.allowed:
            return refuse(400, "number_refused", decision.reason)
        try:
            purpose = Purpose(form.get("purpose") or Purpose.RESIDENT)
        except ValueError:
            return refuse(400, "bad_purpose", f"purpose is one of {', '.join(Purpose)}")
        queue = str(form.get("queue") or settings.queues[0].name)
        if settings.queue(queue) is None:
            return refuse(400, "bad_queue", f"no line {queue!r}")
        with db.session() as s:
            call = queries.request(s, agent=ext, by=user.username if user else None,
                                   purpose=purpose, number=decision.dial,
                                   kind=decision.kind, queue=queue, now=utcnow())
            s.commit()
            call_id = call.id
        try:
            placed = originate.run(settings, agent=ext, dial=decision.dial, call_id=call_id,
                                   queue=queue)
        except AmiError as exc:
            placed = originate.Placed(False, f"Asterisk did not take the call ({exc})")
        if not placed.answered:
            with db.session() as s:
                queries.agent_missed(s, call_id, utcnow())
                s.commit()
            return refuse(502, "not_placed", placed.reason)
        if wants_json():
            return jsonify(id=call_id, number=decision.dial, kind=str(decision.kind),
                           status="dialling"), 202
        if back_to_desktop(request.form):
            flash(f"Calling {decision.dial} ({decision.reason}).", "ok")
            return redirect(f"{DESKTOP}#outbound"), 303
        return agent_page(202, f"Calling {decision.dial} ({decision.reason}).")

    @bp.route("/calls/outbound")
    @roles(Role.SUPERVISOR, Role.MANAGER)
    def report() -> Any:
        """Outbound calls between ``from`` and ``to`` (dates or times; default today)."""
        today = utcnow().astimezone(_zone(settings)).date().isoformat()
        try:
            start = parse_instant(request.args.get("from") or today,
                                  naive_zone=settings.timezone)
            end = parse_instant(request.args.get("to") or today,
                                naive_zone=settings.timezone, end_of_day=True)
        except ValueError as exc:
            return jsonify(error="bad_period", description=str(exc)), 400
        agent = request.args.get("agent") or None
        with db.session() as s:
            rows = queries.between(s, start, end, agent=agent)
            summary = queries.summarize(rows)
            if request.args.get("format") == "csv":
                return Response(_csv(rows), mimetype="text/csv", headers={
                    "Content-Disposition": "attachment; filename=outbound-calls.csv"})
            if request.args.get("format") == "json":
                return jsonify(period={"from": start.isoformat(), "to": end.isoformat()},
                               summary={"calls": summary.calls, "answered": summary.answered,
                                        "answer_rate": summary.answer_rate,
                                        "talk_s": summary.talk_s,
                                        "average_talk_s": summary.average_talk_s,
                                        "by_kind": summary.by_kind,
                                        "by_outcome": summary.by_outcome},
                               calls=[_row(c) for c in rows])
            return render_template("acd/outbound_report.html", calls=rows, summary=summary,
                                   start=request.args.get("from") or today,
                                   end=request.args.get("to") or today, agent=agent or "",
                                   local=local)

    return [Mount(bp)]


def _zone(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


def _row(c: OutboundCall) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in CSV_FIELDS:
        value = getattr(c, name)
        out[name] = value.isoformat() if isinstance(value, datetime | date) else value
    return out


def _csv(rows: list[OutboundCall]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
    w.writeheader()
    for c in rows:
        w.writerow(_row(c))
    return buf.getvalue()
