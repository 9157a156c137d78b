"""Call search and the call timeline page (``/calls``, ``/calls/<uniqueid>``): the records
acd keeps, with the facets other capabilities add (``acd.timeline``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, render_template, request
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from acd.models import CallRecord
from acd.timeline import FacetSource, timeline
from foundation.auth import current_user, roles
from foundation.db import Database
from foundation.settings import Settings
from foundation.timeparse import parse_instant
from foundation.users import Role
from foundation.web import Mount, local_time

SEARCH_LIMIT = 200
VIEWERS = (Role.SUPERVISOR, Role.MANAGER, Role.QA)


def search(args: Any, zone: str) -> Select[Any]:
    """Calls matching the query arguments, newest first; ValueError on a bad argument."""
    stmt = select(CallRecord).order_by(CallRecord.entered_at.desc()).limit(SEARCH_LIMIT)
    caller = "".join(ch for ch in args.get("caller", "") if ch.isdigit())
    if args.get("caller", "").strip() and not caller:
        raise ValueError("caller: digits of a phone number")
    if caller:
        stmt = stmt.where(CallRecord.caller_number.like(f"%{caller[-10:]}"))
    for name, column in (("ticket", CallRecord.ticket_number), ("agent", CallRecord.agent),
                         ("queue", CallRecord.queue)):
        value = args.get(name, "").strip()
        if len(value) > 64:
            raise ValueError(f"{name}: at most 64 characters")
        if value:
            stmt = stmt.where(column == value)
    if args.get("from"):
        stmt = stmt.where(CallRecord.entered_at >= parse_instant(args["from"], naive_zone=zone))
    if args.get("to"):
        stmt = stmt.where(CallRecord.entered_at < parse_instant(args["to"], naive_zone=zone,
                                                                 end_of_day=True))
    return stmt


def create_blueprints(settings: Settings, db: Database,
                      facets: Sequence[FacetSource] = ()) -> list[Mount]:
    """The search and timeline pages; ``facets`` add what other capabilities know."""
    bp = Blueprint("calls", __name__, template_folder="templates")
    local = local_time(settings.timezone)

    @bp.route("/calls")
    @roles(*VIEWERS)
    def find() -> Any:
        try:
            stmt = search(request.args, settings.timezone)
        except ValueError as exc:
            abort(400, description=str(exc))
        asked = any(request.args.get(k) for k in ("caller", "ticket", "agent", "queue", "from",
                                                   "to"))
        if not asked:  # the last day's calls: the page is never an empty shell
            newest = select(CallRecord.entered_at).order_by(CallRecord.entered_at.desc())
            with db.session() as s:
                last = s.scalar(newest.limit(1))
            if last is not None:
                stmt = stmt.where(CallRecord.entered_at >= last - timedelta(days=1))
        with db.session() as s:
            rows = list(s.scalars(stmt))
            s.expunge_all()
        return render_template("acd/calls.html", rows=rows, args=request.args, local=local,
                               limit=SEARCH_LIMIT, settings=settings)

    @bp.route("/calls/<uniqueid>")
    @roles(*VIEWERS)
    def life(uniqueid: str) -> Any:
        user = current_user()
        role = user.role if user is not None else ""
        with db.session() as s:
            call = s.scalar(select(CallRecord).where(CallRecord.uniqueid == uniqueid)
                            .order_by(CallRecord.leg).limit(1)  # its first entry
                            .options(selectinload(CallRecord.rings)))
            if call is None:
                abort(404, description=f"no call {uniqueid!r}")
            found = [f for source in facets if (f := source(s, call, role)) is not None]
            steps = timeline(call, found)
            s.expunge_all()
        return render_template("acd/call.html", call=call, facets=found, steps=steps,
                               local=local)

    return [Mount(bp)]
