"""The agent desktop: screen pop of the agent's current call (the caller's earlier tickets),
intake with the type's probing questions, duplicate suggestions nearby and the SLA date to
promise, and the wrap-up (call type and ticket number stored on the call record).

The current call is the newest ``acd.calls.CallRecord`` of the agent's extension that was
answered and has no outcome yet (the telephony daemon writes it at AgentConnect). The page
refreshes the pop by polling ``/api/v1/crm/desktop/pop`` every 2 s. The page also holds the
browser phone (``acd/static/phone/desktop-phone.js``, served by ``acd.phone_web``), which
shows the caller's earlier tickets already while the call rings (``/caller``), and the
Transfer (on a call) and Call out (idle) controls (``desktop_actions``, posting to acd's
transfer and outbound endpoints).
"""

from __future__ import annotations

import math
from datetime import tzinfo
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd import calls
from acd.calls import CallRecord
from crm_bridge.config import CrmConfig
from crm_bridge.models import ServiceType, Ticket
from crm_bridge.open311.wire import iso
from crm_bridge.tickets import records, routing, service
from crm_bridge.tickets.calltypes import CALL_TYPES, check_wrapup
from crm_bridge.tickets.checkdigit import normalize
from crm_bridge.tickets.draft import TicketDraft
from crm_bridge.tickets.errors import InvalidInput
from crm_bridge.tickets.lifecycle import State, plain
from crm_bridge.web import desktop_actions
from crm_bridge.web.context import DOMAIN_ERRORS, CrmWeb, code_of, form_text, status_of, user
from foundation.auth import roles
from foundation.db import utcnow
from foundation.users import Role
from places.public import map_ready

API = "/api/v1/crm/desktop"


def current_call(session: Session, ext: str | None) -> CallRecord | None:
    """The call the agent is on now: answered by ``ext``, no outcome yet; newest first."""
    return calls.current_call(session, ext)


def last_call(session: Session, ext: str | None) -> CallRecord | None:
    """The call to wrap up: the current one, else the newest answered call not wrapped up."""
    return calls.last_call(session, ext)


def _brief(t: Ticket, tz: tzinfo) -> dict[str, Any]:
    return {"number": t.number, "service_name": t.service_type.name, "state": plain(State(t.state)),
            "open": t.wire_status == "open", "address": t.address,
            "requested": t.requested_at.astimezone(tz).strftime("%Y-%m-%d"),
            "due": t.due_at.astimezone(tz).strftime("%Y-%m-%d") if t.due_at else None,
            "resolution": t.resolution}


def pop(session: Session, ext: str | None, tz: tzinfo) -> dict[str, Any]:
    call = current_call(session, ext)
    if call is None:
        return {"agent": ext, "call": None, "earlier_tickets": []}
    return {"agent": ext, "call": {
        "uniqueid": call.uniqueid, "caller_number": call.caller_number,
        "caller_name": call.caller_name, "queue": call.queue, "ivr_path": call.ivr_path,
        "answered_at": iso(call.answered_at), "wait_s": call.wait_s,
        "ticket_number": call.ticket_number},
        "earlier_tickets": [_brief(t, tz) for t in routing.caller_tickets(session,
                                                                           call.caller_number)]}


def promise(st: ServiceType, config: CrmConfig) -> dict[str, str]:
    """What the agent tells the caller: the SLA in words and the date it falls on."""
    due = config.calendar.due(records.policy(st), utcnow())
    local = due.astimezone(config.calendar.tz)
    return {"sla": records.policy(st).describe(), "due": iso(due) or "",
            "due_text": local.strftime("%A %B %-d, %Y by %-I:%M %p")}


def _num(raw: str | None, name: str) -> float | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(name, f"{name} must be a number") from None
    if not math.isfinite(value):  # inf reached the distance maths as a 500
        raise InvalidInput(name, f"{name} must be a finite number")
    return value


def _nearby(session: Session, st: ServiceType, args: Any,
            config: CrmConfig) -> list[dict[str, Any]]:
    lat, long = _num(args.get("lat"), "lat"), _num(args.get("long"), "long")
    address = (args.get("address") or "").strip() or None
    if (lat is None or long is None) and not address:
        return []
    found = routing.nearby_open(session, st.id, lat=lat, long=long, address=address,
                                config=config)
    out = []
    for t in found:
        b = _brief(t, config.calendar.tz)
        if lat is not None and long is not None and t.lat is not None and t.long is not None:
            b["distance_m"] = round(routing.distance_m(lat, long, t.lat, t.long))
        out.append(b)
    return out


def map_settings(web: CrmWeb) -> dict[str, Any]:
    """What the desktop's map needs (``places``: Leaflet and the tile source)."""
    st = web.settings
    return {"ready": map_ready(st.map_tile_url), "tiles": st.map_tile_url,
            "attribution": st.map_attribution, "center": st.map_center, "zoom": st.map_zoom}


def _page(web: CrmWeb, error: Exception | None = None, form: Any = None) -> Any:
    u = user()
    form = form if form is not None else request.args
    code = (form.get("service_code") or "").strip()
    tz = web.cfg.calendar.tz
    with web.db.session() as s:
        types = s.scalars(select(ServiceType).where(ServiceType.active.is_(True))
                          .order_by(ServiceType.group, ServiceType.name)).all()
        st = next((t for t in types if t.code == code), None)
        ctx: dict[str, Any] = {"pop": pop(s, u.agent_ext, tz), "types": types, "st": st,
                               "form": form, "call_types": CALL_TYPES,
                               "wrap": last_call(s, u.agent_ext)}
        if st is not None:
            ctx["questions"] = [d for d in st.attributes or [] if d.get("variable", True)]
            ctx["info"] = [d for d in st.attributes or [] if not d.get("variable", True)]
            ctx["promise"] = promise(st, web.cfg)
            try:
                ctx["nearby"] = _nearby(s, st, form, web.cfg)
            except InvalidInput:
                ctx["nearby"] = []
        ctx["map"] = map_settings(web)
        ctx.update(desktop_actions.context(s, web.settings, u.agent_ext, request.args))
        page = render_template("crm/desktop.html", **ctx, ext=u.agent_ext,
                               twilio=web.settings.telephony_backend == "twilio",
                               error=(code_of(error), str(error)) if error else None)
    return page, (status_of(error) if error else 200)


def _answers(form: Any, st: ServiceType) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for d in st.attributes or []:
        values = [v for v in form.getlist(f"attr.{d['code']}") if v.strip()]
        if values:
            out[d["code"]] = values if d["datatype"] == "multivaluelist" else values[0]
    return out


def register(bp: Blueprint, web: CrmWeb) -> None:
    """Add the agent desktop page, its intake and wrap-up, and its JSON helpers."""

    @bp.route("/agent/desktop")
    @roles(Role.AGENT)
    def desktop() -> Any:
        return _page(web)

    @bp.route(f"{API}/pop")
    @roles(Role.AGENT)
    def desktop_pop() -> Any:
        with web.db.session() as s:
            return jsonify(pop(s, user().agent_ext, web.cfg.calendar.tz))

    @bp.route(f"{API}/caller")
    @roles(Role.AGENT)
    def desktop_caller() -> Any:
        """The screen pop of a call still ringing: that number's earlier tickets."""
        number = (request.args.get("number") or "").strip()[:32]
        with web.db.session() as s:
            found = routing.caller_tickets(s, number) if number else []
            return jsonify(number=number,
                           earlier_tickets=[_brief(t, web.cfg.calendar.tz) for t in found])

    @bp.route(f"{API}/types/<code>")
    @roles(Role.AGENT)
    def desktop_type(code: str) -> Any:
        """The intake card of a service type: questions, script, FAQ and the SLA to promise."""
        try:
            with web.db.session() as s:
                st = service.service_type(s, code)
                return jsonify(code=st.code, name=st.name, agency=st.agency.name, script=st.script,
                               faq=st.faq, attributes=st.attributes or [], **promise(st, web.cfg))
        except DOMAIN_ERRORS as exc:
            return jsonify(error=code_of(exc), description=str(exc)), status_of(exc)

    @bp.route(f"{API}/nearby")
    @roles(Role.AGENT)
    def desktop_nearby() -> Any:
        """Open tickets of the same type near ``lat``/``long`` (or at ``address``): suggest, never
        auto-link."""
        try:
            with web.db.session() as s:
                st = service.service_type(s, request.args.get("service_code") or "")
                return jsonify(_nearby(s, st, request.args, web.cfg))
        except DOMAIN_ERRORS as exc:
            return jsonify(error=code_of(exc), description=str(exc)), status_of(exc)

    @bp.route("/agent/desktop/intake", methods=["POST"])
    @roles(Role.AGENT)
    def desktop_intake() -> Any:
        """Open a ticket for the caller on the line (or none); optionally as a duplicate of a
        suggested ticket. The new number goes on the call record at once."""
        f = request.form
        u = user()
        try:
            with web.db.session() as s:
                st = service.service_type(s, form_text(f, "service_code"))
                uniqueid = form_text(f, "call_uniqueid") or None
                channel = form_text(f, "channel") or "phone"
                if channel not in service.STAFF_CHANNELS:
                    raise InvalidInput("channel", "came in by phone, walk-in or letter")
                if channel != "phone":  # the resident at the counter or on paper: no call
                    uniqueid = None
                call = None
                if uniqueid:
                    call = calls.by_uniqueid(s, uniqueid)
                    if call is None or call.agent != u.agent_ext:
                        raise InvalidInput("call", "that call is not yours")
                t = service.open_ticket(
                    s, TicketDraft(
                        st.code, description=form_text(f, "description"), channel=channel,
                        actor=u.username, attributes=_answers(f, st),
                        address=form_text(f, "address") or None, lat=_num(f.get("lat"), "lat"),
                        long=_num(f.get("long"), "long"),
                        first_name=form_text(f, "first_name") or None,
                        last_name=form_text(f, "last_name") or None,
                        email=form_text(f, "email") or None,
                        phone=form_text(f, "phone") or (call.caller_number if call else None),
                        notify_email=bool(form_text(f, "email")),
                        notify_sms=bool(f.get("notify_sms")), call_uniqueid=uniqueid
                    ), config=web.cfg)
                dup = form_text(f, "duplicate_of")
                if dup:
                    routing.link(s, t, service.get_ticket(s, dup, lock=True), "duplicate",
                                 u.username)
                if call is not None:
                    calls.link_ticket(call, t.number)
                number = t.number
                due = t.due_at.astimezone(web.cfg.calendar.tz).strftime("%A %B %-d, %Y") \
                    if t.due_at else ""
        except DOMAIN_ERRORS as exc:
            return _page(web, exc, f)
        flash(f"Ticket {number} opened{' as a duplicate of ' + dup if dup else ''}. "
              f"Tell the caller: expected by {due}.", "ok")
        return redirect(url_for("crm.desktop")), 303

    @bp.route("/agent/desktop/wrapup", methods=["POST"])
    @roles(Role.AGENT)
    def desktop_wrapup() -> Any:
        f = request.form
        u = user()
        try:
            with web.db.session() as s:
                call = calls.by_uniqueid(s, form_text(f, "call_uniqueid"))
                if call is None or not u.agent_ext or call.agent != u.agent_ext:
                    raise InvalidInput("call", "no such call of yours to wrap up")
                number = form_text(f, "ticket_number") or call.ticket_number
                call_type = check_wrapup(form_text(f, "call_type"), number)
                if number:
                    number = service.get_ticket(s, normalize(number)).number
                calls.wrap_up(call, call_type, number)
        except DOMAIN_ERRORS as exc:
            return _page(web, exc, f)
        flash(f"Call wrapped up as {call_type.replace('_', ' ')}.", "ok")
        return redirect(url_for("crm.desktop")), 303
