"""Recording reads for the pages, the API and the CLI: the filtered list and its JSON shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from foundation.timeparse import parse_instant
from recordings.models import PROBLEMS, STATUSES, Recording

PAGE_SIZE = 200


class BadFilter(ValueError):
    """A list filter that cannot be applied; the message says which and why."""


def as_dict(r: Recording) -> dict[str, Any]:
    return {"id": r.id, "uniqueid": r.uniqueid, "call_id": r.call_id, "queue": r.queue,
            "agent": r.agent, "ticket_number": r.ticket_number,
            "started_at": r.started_at.isoformat(), "talk_s": r.talk_s, "status": r.status,
            "detail": r.detail, "duration_s": r.duration_s, "size_bytes": r.size_bytes,
            "sha256": r.sha256, "legal_hold": r.legal_hold,
            "deleted_at": r.deleted_at.isoformat() if r.deleted_at else None}


def filtered(args: Mapping[str, str], tz: str,
             statuses: tuple[str, ...] | None = None) -> Select[Recording]:
    """The newest recordings matching the query-string filters (dates without an offset are in
    the city's zone ``tz``; a bare ``to`` date includes that whole day); raises BadFilter."""
    q = select(Recording)
    if statuses:
        q = q.where(Recording.status.in_(statuses))
    elif args.get("status"):
        if args["status"] not in STATUSES:
            raise BadFilter(f"status must be one of {', '.join(STATUSES)}")
        q = q.where(Recording.status == args["status"])
    if args.get("queue"):
        q = q.where(Recording.queue == args["queue"])
    if args.get("agent"):
        q = q.where(Recording.agent == args["agent"])
    if args.get("ticket"):
        q = q.where(Recording.ticket_number == args["ticket"])
    for name, op in (("from", "__ge__"), ("to", "__lt__")):
        raw = args.get(name)
        if raw:
            try:  # a page: no offset means the city's clock; a bare "to" date, its end
                at = parse_instant(raw, naive_zone=tz, end_of_day=name == "to")
            except ValueError as exc:
                raise BadFilter(f"{name}: {exc}") from exc
            q = q.where(getattr(Recording.started_at, op)(at))
    return q.order_by(Recording.started_at.desc(), Recording.id.desc()).limit(PAGE_SIZE)


def problems(args: Mapping[str, str], tz: str) -> Select[Recording]:
    """The newest missing and failed recordings (other filters as in ``filtered``)."""
    return filtered(args, tz, PROBLEMS)


def problem_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Recording)
                          .where(Recording.status.in_(PROBLEMS))) or 0
