"""CRM web pages: the agency worker's queue and ticket page (update, transfer, link, comment,
close with a resolution), the resident's reopen link, and the SLA on-time report.

One blueprint for the whole CRM, built by ``app.create_blueprints``: this module's
``register`` adds these pages and the open-data export; the admin catalog pages, the agent
desktop and the JSON API add theirs from their own modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from sqlalchemy import select

from crm_bridge.config import CrmConfig
from crm_bridge.models import Agency, ServiceType, Ticket
from crm_bridge.open311 import opendata
from crm_bridge.open311.public_view import public_view
from crm_bridge.open311.wire import parse_iso
from crm_bridge.tickets import routing, service
from crm_bridge.tickets.attributes import answer_label
from crm_bridge.tickets.errors import InvalidInput
from crm_bridge.tickets.lifecycle import (
    Action,
    ClosureReason,
    LinkKind,
    State,
    allowed_actions,
    plain,
)
from crm_bridge.tickets.sla import on_time_report, totals
from crm_bridge.web.context import (
    DOMAIN_ERRORS,
    STAFF,
    CrmWeb,
    agency_scope,
    code_of,
    form_text,
    status_of,
    ticket_for,
    user,
)
from foundation.auth import public, roles
from foundation.db import utcnow
from foundation.timeparse import parse_day
from foundation.users import Role

QUEUE_LIMIT = 300


def local(dt: Any, tz: tzinfo) -> str:
    """``dt`` as the city's wall-clock time, "YYYY-MM-DD HH:MM"; "" for None."""
    if dt is None:
        return ""
    return str(dt.astimezone(tz).strftime("%Y-%m-%d %H:%M"))


def _ticket_context(s: Any, t: Ticket, config: CrmConfig) -> dict[str, Any]:
    defs = {d["code"]: d for d in t.service_type.attributes or []}
    answers = [(defs[c]["description"] if c in defs else c,
                answer_label(defs.get(c, {}), v)) for c, v in (t.attributes or {}).items()]
    linked = s.scalars(select(Ticket).where(Ticket.parent_id == t.id).order_by(Ticket.id)).all()
    state = State(t.state)
    return {
        "t": t, "state": plain(state), "answers": answers, "linked": linked,
        "events": service.events(s, t),
        "actions": [a.value for a in allowed_actions(state) if a.value not in ("close", "reopen")],
        "can_close": state is not State.CLOSED, "can_reopen": state is State.CLOSED,
        "reasons": [r.value for r in ClosureReason], "link_kinds": [k.value for k in LinkKind],
        "agencies": s.scalars(select(Agency).where(Agency.id != t.agency_id)
                              .order_by(Agency.code)).all(),
        "nearby": routing.nearby_open(s, t.service_type_id, lat=t.lat, long=t.long,
                                      address=t.address, config=config, exclude_id=t.id)
        if state is not State.CLOSED and t.parent_id is None else [],
    }


def _ticket_page(web: CrmWeb, number: str, error: Exception | None = None) -> Any:
    try:
        with web.db.session() as s:
            t = ticket_for(s, number, user())
            ctx = _ticket_context(s, t, web.cfg)
            page = render_template("crm/ticket.html", **ctx,
                                   error=(code_of(error), str(error)) if error else None)
    except DOMAIN_ERRORS as exc:
        return render_template("crm/not_found.html", number=number, message=str(exc)), \
            status_of(exc)
    return page, (status_of(error) if error else 200)


def _change(web: CrmWeb, number: str, do: Any) -> Any:
    """Run one change in its own transaction; on a refusal nothing is kept and the page says
    why (the HTTP status follows the domain error)."""
    try:
        with web.db.session() as s:
            t = ticket_for(s, number, user(), lock=True)
            message = do(s, t)
    except DOMAIN_ERRORS as exc:
        return _ticket_page(web, number, exc)
    flash(message, "ok")
    return redirect(url_for("crm.ticket", number=number))


def register(bp: Blueprint, web: CrmWeb) -> None:
    """Add the worker pages, the resident's reopen link, the SLA report and open data."""

    @bp.app_template_filter("crm_local")
    def _local_filter(dt: Any) -> str:
        return local(dt, web.cfg.calendar.tz)

    @bp.route("/crm/")
    @roles(*STAFF)
    def index() -> Any:
        return redirect(url_for("crm.queue"))

    @bp.route("/crm/queue")
    @roles(*STAFF)
    def queue() -> Any:
        """Open tickets of one agency, the most urgent (earliest due) first."""
        u = user()
        scope = agency_scope(u)
        wanted_state = request.args.get("state") or ""
        with web.db.session() as s:
            agencies = s.scalars(select(Agency).order_by(Agency.code)).all()
            code = scope or request.args.get("agency") or ""
            q = (select(Ticket).where(Ticket.wire_status == "open")
                 .order_by(Ticket.due_at.is_(None), Ticket.due_at, Ticket.id)
                 .limit(QUEUE_LIMIT))
            agency = next((a for a in agencies if a.code == code), None)
            if code and agency is None:
                rows: list[Ticket] = []
            else:
                if agency is not None:
                    q = q.where(Ticket.agency_id == agency.id)
                if wanted_state in {st.value for st in State}:
                    q = q.where(Ticket.state == wanted_state)
                rows = list(s.scalars(q))
            types = {st.id: st for st in s.scalars(select(ServiceType))}
            by_id = {a.id: a for a in agencies}
            now = utcnow()
            items = [{"t": t, "type": types[t.service_type_id], "agency": by_id[t.agency_id],
                      "state": plain(State(t.state)),
                      "overdue": t.due_at is not None and t.due_at < now,
                      "due_soon": t.due_at is not None
                      and now <= t.due_at < now + timedelta(days=1)}
                     for t in rows]
        return render_template("crm/queue.html", items=items, agencies=agencies, agency=agency,
                               scope=scope,
                               states=[st.value for st in State if st is not State.CLOSED],
                               wanted_state=wanted_state, limit=QUEUE_LIMIT)

    @bp.route("/crm/find")
    @roles(*STAFF)
    def find() -> Any:
        number = (request.args.get("number") or "").strip()
        return redirect(url_for("crm.ticket", number=number or "0"))

    @bp.route("/crm/tickets/<number>")
    @roles(*STAFF)
    def ticket(number: str) -> Any:
        return _ticket_page(web, number)

    @bp.route("/crm/tickets/<number>/act", methods=["POST"])
    @roles(*STAFF)
    def act(number: str) -> Any:
        f = request.form
        action = form_text(f, "action")

        def do(s: Any, t: Ticket) -> str:
            service.act(s, t, action, user().username,
                        comment=form_text(f, "comment") or None,
                        assignee=form_text(f, "assignee") or None,
                        reason=form_text(f, "reason") or None, config=web.cfg)
            return f"Ticket {t.number} is now {plain(State(t.state))}."

        if action not in {a.value for a in Action}:
            return _ticket_page(web, number,
                                InvalidInput("action_unknown", f"unknown action {action!r}"))
        return _change(web, number, do)

    @bp.route("/crm/tickets/<number>/transfer", methods=["POST"])
    @roles(*STAFF)
    def transfer(number: str) -> Any:
        f = request.form

        def do(s: Any, t: Ticket) -> str:
            routing.transfer(s, t, form_text(f, "agency"), user().username,
                             form_text(f, "comment"), config=web.cfg)
            return f"Ticket {t.number} transferred to {t.agency.name}."

        return _change(web, number, do)

    @bp.route("/crm/tickets/<number>/link", methods=["POST"])
    @roles(*STAFF)
    def link(number: str) -> Any:
        f = request.form

        def do(s: Any, t: Ticket) -> str:
            parent = ticket_for(s, form_text(f, "parent"), user(), lock=True)  # same scope
            kind = form_text(f, "kind") or "duplicate"
            if kind not in {k.value for k in LinkKind}:
                raise InvalidInput("link_kind", f"link kind must be one of "
                                                f"{', '.join(k.value for k in LinkKind)}")
            routing.link(s, t, parent, kind, user().username)
            return f"Ticket {t.number} linked as {kind} of {parent.number}."

        return _change(web, number, do)

    @bp.route("/crm/tickets/<number>/comment", methods=["POST"])
    @roles(*STAFF)
    def comment(number: str) -> Any:
        f = request.form

        def do(s: Any, t: Ticket) -> str:
            service.comment(s, t, user().username, form_text(f, "text"),
                            public=not f.get("internal"))
            return "Comment added."

        return _change(web, number, do)

    @bp.route("/crm/tickets/<number>/reopen", methods=["POST"])
    @roles(Role.SUPERVISOR, Role.AGENCY, Role.AGENT)
    def reopen(number: str) -> Any:
        """Staff reopen (within the window; a supervisor may override the window)."""
        f = request.form

        def do(s: Any, t: Ticket) -> str:
            override = bool(f.get("override")) and user().role in ("supervisor", "admin")
            service.reopen(s, t, user().username, form_text(f, "comment") or None,
                           override=override, config=web.cfg)
            return f"Ticket {t.number} reopened."

        return _change(web, number, do)

    # ---- the resident's "work not done" link from the closure email --------------------------
    @bp.route("/crm/reopen/<number>", methods=["GET", "POST"])
    @public
    def resident_reopen(number: str) -> Any:
        sig = request.values.get("t", "")
        if not web.cfg.check_signature(number, sig):
            abort(403)
        with web.db.session() as s:
            try:
                t = service.get_ticket(s, number)
            except DOMAIN_ERRORS:
                abort(404)
            facts = {"number": t.number, "service": t.service_type.name, "agency": t.agency.name,
                     "state": plain(State(t.state)),
                     "resolution": public_view(t, t.service_type.public_description).resolution,
                     "closed": t.state == State.CLOSED.value}
        if request.method == "GET":
            return render_template("crm/resident_reopen.html", f=facts, sig=sig, done=False)
        try:
            with web.db.session() as s:
                service.reopen_by_resident(s, number, form_text(request.form, "text"),
                                           config=web.cfg)
        except DOMAIN_ERRORS as exc:
            return render_template("crm/resident_reopen.html", f=facts, sig=sig, done=False,
                                   error=str(exc)), status_of(exc)
        facts["state"] = plain(State.REOPENED)
        return render_template("crm/resident_reopen.html", f=facts, sig=sig, done=True)

    # ---- the on-time closure report -----------------------------------------------------------
    @bp.route("/crm/reports/sla")
    @roles(Role.MANAGER, Role.SUPERVISOR)
    def sla_report() -> Any:
        tz = web.cfg.calendar.tz
        today = utcnow().astimezone(tz).date()
        try:
            start = parse_day(request.args.get("from")
                               or str(today - timedelta(days=30)))
            end = parse_day(request.args.get("to") or str(today))
        except ValueError:
            flash("Dates must be YYYY-MM-DD.", "error")
            return redirect(url_for("crm.sla_report"))
        with web.db.session() as s:
            rows = on_time_report(s, datetime.combine(start, time(), tz),
                                  datetime.combine(end + timedelta(days=1), time(), tz))
        return render_template("crm/sla_report.html", rows=rows, agencies=totals(rows),
                               start=start, end=end)

    # ---- open data (public) -------------------------------------------------------------------
    @bp.route("/open-data/requests.<fmt>")
    @public
    def open_data(fmt: str) -> Any:
        """``/open-data/requests.csv|json?start_date=&end_date=`` (ISO 8601, both optional):
        every ticket in GeoReport bulk style, personal data removed
        (``crm_bridge.open311.opendata``)."""
        if fmt not in ("csv", "json"):
            return Response("format must be csv or json\n", status=404, mimetype="text/plain")
        tz = web.cfg.calendar.tz
        try:
            start, end = (parse_iso(n, request.args[n], tz) if request.args.get(n) else None
                          for n in ("start_date", "end_date"))
        except ValueError as exc:
            return Response(f"{exc}\n", status=400, mimetype="text/plain")
        database, decimals = web.db, web.cfg.public_coordinate_decimals

        def chunks() -> Iterator[str]:  # streamed: a million rows never sit in memory at once
            with database.session() as s:
                rows = opendata.rows(s, tz, start, end, decimals)
                yield from (opendata.iter_csv if fmt == "csv" else opendata.iter_json)(rows)

        return Response(stream_with_context(chunks()),
                        mimetype="text/csv" if fmt == "csv" else "application/json",
                        headers={"Content-Disposition":
                                 f'attachment; filename="service_requests.{fmt}"'})
