"""Call search and one call's whole life on one page (``/calls``, ``/calls/<uniqueid>``).

acd knows the queued call: entry, ring attempts, answer, transfer, end and wrap-up. What
other capabilities know of the same call (the IVR path, tickets, the recording and survey)
arrives as ``Facet`` functions handed in by the composition root, so acd imports none of
them; each facet sees the viewer's role and leaves out what that role may not see.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, abort, render_template, request
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from acd.models import CallRecord
from foundation.auth import current_user, roles
from foundation.db import Database
from foundation.settings import Settings
from foundation.timeparse import parse_instant
from foundation.users import Role
from foundation.web import Mount, local_time

SEARCH_LIMIT = 200
VIEWERS = (Role.SUPERVISOR, Role.MANAGER, Role.QA)


@dataclass(frozen=True)
class Step:
    """One moment in a call's life; ``href`` links to the page that tells more."""

    at: datetime | None
    what: str
    href: str | None = None


@dataclass(frozen=True)
class Facet:
    """What one capability knows of a call: a titled box and moments for the timeline."""

    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


FacetSource = Callable[[Session, CallRecord, str], "Facet | None"]  # session, call, role


def call_steps(call: CallRecord) -> list[Step]:
    """The queued call's own moments, from its record and ring attempts."""
    steps = [Step(call.entered_at, f"entered queue {call.queue}"
                  + (f" at position {call.position}" if call.position else ""))]
    for ring in call.rings:
        word = "answered" if ring.outcome == "connected" else "did not answer"
        steps.append(Step(ring.at, f"rang agent {ring.agent} for {ring.ring_ms / 1000:.0f} s; "
                                   f"{word}"))
    if call.answered_at is not None:
        steps.append(Step(call.answered_at, f"answered by agent {call.agent} after "
                                            f"{call.wait_s or 0:.0f} s waiting"))
    if call.hold_s:
        steps.append(Step(None, f"on hold {call.hold_s:.0f} s in all"))
    if call.transfer_target:
        steps.append(Step(call.ended_at, f"transferred to {call.transfer_target}"))
    if call.ended_at is not None:
        side = f", {call.hangup_side} hung up" if call.hangup_side not in (None, "transfer") \
            else ""
        steps.append(Step(call.ended_at, f"ended: {call.outcome}{side}"))
    if call.call_type or call.ticket_number:
        steps.append(Step(None, "wrap-up: " + ", ".join(filter(None, (
            call.call_type, call.ticket_number and f"ticket {call.ticket_number}")))))
    return steps


def timeline(call: CallRecord, facets: Sequence[Facet]) -> list[Step]:
    """Every moment in time order; moments without a time keep their place at the end."""
    steps = call_steps(call) + [s for f in facets for s in f.steps]
    timed = sorted((s for s in steps if s.at is not None), key=lambda s: s.at)  # type: ignore
    return timed + [s for s in steps if s.at is None]


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
                            .options(selectinload(CallRecord.rings)))
            if call is None:
                abort(404, description=f"no call {uniqueid!r}")
            found = [f for source in facets if (f := source(s, call, role)) is not None]
            steps = timeline(call, found)
            s.expunge_all()
        return render_template("acd/call.html", call=call, facets=found, steps=steps,
                               local=local)

    return [Mount(bp)]
