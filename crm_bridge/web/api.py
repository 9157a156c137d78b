"""The staff JSON API of the CRM under ``/api/v1/crm/`` (session log-in + X-CSRFToken, like the
other JSON routes): open a ticket, read it with its activity log, and every lifecycle change.

Errors: ``{"error": code, "description": text}`` with 400 (bad input), 404 (no such ticket, or
not one this user may see), 409 (the lifecycle refuses: closing without a resolution, reopening
after the window...). A refused change changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_bridge.models import Agency, Ticket
from crm_bridge.open311.wire import iso
from crm_bridge.tickets import routing, service
from crm_bridge.tickets.draft import TicketDraft
from crm_bridge.tickets.errors import InvalidInput
from crm_bridge.tickets.lifecycle import Action, LinkKind, State, plain
from crm_bridge.web.context import (
    DOMAIN_ERRORS,
    STAFF,
    CrmWeb,
    agency_scope,
    code_of,
    status_of,
    ticket_for,
    user,
)
from foundation.auth import roles
from foundation.users import Role

API = "/api/v1/crm"


def ticket_json(session: Session, t: Ticket, with_events: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "number": t.number, "state": t.state, "state_text": plain(State(t.state)),
        "status": t.wire_status, "service_code": t.service_type.code,
        "service_name": t.service_type.name, "agency": t.agency.code,
        "assignee": t.assignee, "channel": t.channel, "description": t.description,
        "attributes": t.attributes, "address": t.address, "lat": t.lat, "long": t.long,
        "phone": t.phone, "email": t.email, "requested_at": iso(t.requested_at),
        "updated_at": iso(t.updated_at), "due_at": iso(t.due_at),
        "closed_at": iso(t.closed_at), "closure_reason": t.closure_reason,
        "resolution": t.resolution, "status_notes": t.status_notes,
        "parent": t.parent.number if t.parent else None, "link_kind": t.link_kind,
        "escalation_level": t.escalation_level, "reopen_count": t.reopen_count,
        "call_uniqueid": t.call_uniqueid,
    }
    if with_events:
        out["events"] = [{"kind": e.kind, "actor": e.actor, "at": iso(e.at), "text": e.text,
                          "public": e.public} for e in service.events(session, t)]
    return out


def _error(exc: Exception) -> Any:
    return jsonify(error=code_of(exc), description=str(exc)), status_of(exc)


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    if not isinstance(data, dict):
        raise InvalidInput("body", "send a JSON object")
    return data


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise InvalidInput(name, f"{name} must be text")
    return str(value).strip() or None


def _change(web: CrmWeb, number: str,
            do: Callable[[Session, Ticket, dict[str, Any]], Any]) -> Any:
    try:
        data = _body()
        with web.db.session() as s:
            t = ticket_for(s, number, user(), lock=True)
            do(s, t, data)
            s.flush()
            body = ticket_json(s, t)
    except DOMAIN_ERRORS as exc:
        return _error(exc)
    return jsonify(body)


def register(bp: Blueprint, web: CrmWeb) -> None:
    """Add the staff JSON API: list, open and read tickets, and every lifecycle change."""

    @bp.route(f"{API}/tickets", methods=["GET"])
    @roles(*STAFF)
    def api_list() -> Any:
        """Open tickets (or ``?status=closed``), optionally of one ``agency``; newest due first."""
        scope = agency_scope(user())
        code = scope or request.args.get("agency") or None
        status = request.args.get("status") or "open"
        if status not in ("open", "closed"):
            return jsonify(error="status", description="status is open or closed"), 400
        with web.db.session() as s:
            q = select(Ticket).where(Ticket.wire_status == status)
            if code:
                agency = s.scalar(select(Agency).where(Agency.code == code))
                if agency is None:
                    return jsonify(error="agency_not_found", description=f"no agency {code!r}"), 404
                q = q.where(Ticket.agency_id == agency.id)
            rows = s.scalars(q.order_by(Ticket.due_at, Ticket.id).limit(500)).all()
            return jsonify([ticket_json(s, t) for t in rows])

    @bp.route(f"{API}/tickets", methods=["POST"])
    @roles(Role.AGENT, Role.SUPERVISOR, Role.AGENCY)
    def api_create() -> Any:
        try:
            data = _body()
            attrs = data.get("attributes") or {}
            if not isinstance(attrs, dict):
                raise InvalidInput("attributes", "attributes is an object {code: value}")

            def num(name: str) -> float | None:
                v = data.get(name)
                if v is None or v == "":
                    return None
                try:
                    return float(v)
                except (TypeError, ValueError):
                    raise InvalidInput(name, f"{name} must be a number") from None

            with web.db.session() as s:
                t = service.open_ticket(
                    s, TicketDraft(
                        _text(data, "service_code") or "",
                        description=_text(data, "description") or "",
                        channel=_text(data, "channel") or "phone", actor=user().username,
                        attributes=attrs, address=_text(data, "address"), lat=num("lat"),
                        long=num("long"), first_name=_text(data, "first_name"),
                        last_name=_text(data, "last_name"), email=_text(data, "email"),
                        phone=_text(data, "phone"), call_uniqueid=_text(data, "call_uniqueid")
                    ), config=web.cfg)
                body = ticket_json(s, t)
        except DOMAIN_ERRORS as exc:
            return _error(exc)
        return jsonify(body), 201

    @bp.route(f"{API}/tickets/<number>")
    @roles(*STAFF)
    def api_get(number: str) -> Any:
        try:
            with web.db.session() as s:
                return jsonify(ticket_json(s, ticket_for(s, number, user()), with_events=True))
        except DOMAIN_ERRORS as exc:
            return _error(exc)

    @bp.route(f"{API}/tickets/<number>/actions", methods=["POST"])
    @roles(*STAFF)
    def api_action(number: str) -> Any:
        """``{"action": acknowledge|assign|start|hold|resume|close|reopen, "comment", "assignee",
        "reason", "override"}`` (override: supervisors only, reopen past the window)."""
        def do(s: Session, t: Ticket, data: dict[str, Any]) -> None:
            action = _text(data, "action") or ""
            if action not in {a.value for a in Action}:
                raise InvalidInput("action_unknown", f"unknown action {action!r}")
            override = bool(data.get("override")) and user().role in ("supervisor", "admin")
            service.act(s, t, action, user().username, comment=_text(data, "comment"),
                        assignee=_text(data, "assignee"), reason=_text(data, "reason"),
                        override=override, config=web.cfg)

        return _change(web, number, do)

    @bp.route(f"{API}/tickets/<number>/transfer", methods=["POST"])
    @roles(*STAFF)
    def api_transfer(number: str) -> Any:
        def do(s: Session, t: Ticket, data: dict[str, Any]) -> None:
            routing.transfer(s, t, _text(data, "agency") or "", user().username,
                             _text(data, "comment") or "", config=web.cfg)

        return _change(web, number, do)

    @bp.route(f"{API}/tickets/<number>/link", methods=["POST"])
    @roles(*STAFF)
    def api_link(number: str) -> Any:
        def do(s: Session, t: Ticket, data: dict[str, Any]) -> None:
            kind = _text(data, "kind") or "duplicate"
            if kind not in {k.value for k in LinkKind}:
                raise InvalidInput("link_kind", "kind is duplicate or child")
            # the target passes the same agency check as the ticket: an agency worker cannot
            # write into another agency's log or hold back its closure
            parent = ticket_for(s, _text(data, "parent") or "", user(), lock=True)
            routing.link(s, t, parent, kind, user().username)

        return _change(web, number, do)

    @bp.route(f"{API}/tickets/<number>/comments", methods=["POST"])
    @roles(*STAFF)
    def api_comment(number: str) -> Any:
        def do(s: Session, t: Ticket, data: dict[str, Any]) -> None:
            service.comment(s, t, user().username, _text(data, "text") or "",
                            public=data.get("public", True) is not False)

        return _change(web, number, do)
