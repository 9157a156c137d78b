"""The public performance page (``/performance``, no log-in): the CitiStat-style figures
council members and residents read, month by month and by agency. Aggregates only: no
caller, no address, no ticket text ever reaches it.

Calls are measured by the center's own definitions and goals (``acd.definitions``,
``acd.goals``), read through ``acd.queries.summary`` (rollups where settled); requests by
the month they were received and closed, on time meaning closed by the due date of the
type's SLA (``crm_bridge.tickets.tallies``: the day tallies, today from the tickets).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from acd import definitions, goals, queries
from crm_bridge.models import Agency
from crm_bridge.tickets import tallies
from crm_bridge.web.context import CrmWeb
from foundation.auth import public
from foundation.db import utcnow

MONTHS = 12


@dataclass(frozen=True)
class Month:
    start: date
    calls: int
    answered: int
    service_level: float | None
    asa_s: float | None
    abandon_rate: float | None
    received: int
    closed: int
    on_time: int

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.closed if self.closed else None


def month_starts(today: date, months: int) -> list[date]:
    """The first days of the last ``months`` months, oldest first, this month included."""
    out, y, m = [], today.year, today.month
    for _ in range(months):
        out.append(date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def _next(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def _requests(s: Session, start: datetime, end: datetime) -> tuple[int, int, int]:
    closed = tallies.closed(s, start, end, None).values()
    return (sum(tallies.received(s, start, end, None).values()),
            sum(n for n, _ in closed), sum(ok for _, ok in closed))


def figures(s: Session, web: CrmWeb, today: date) -> tuple[list[Month], list[dict[str, Any]]]:
    """Per month: calls and requests; per agency over the whole span: requests and on time."""
    settings, tz = web.settings, ZoneInfo(web.settings.timezone)
    d = definitions.from_settings(settings)
    answer_s = goals.goals_for(settings, None).answer_s
    months = []
    starts = month_starts(today, MONTHS)
    for first in starts:
        t0 = datetime.combine(first, time(), tz)
        t1 = datetime.combine(_next(first), time(), tz)
        m = queries.summary(s, t0, t1, None, list(d.thresholds_s), d.short_abandon_s)
        months.append(Month(first, m.offered, m.answered, m.service_level(answer_s,
                                                                          d.service_level),
                            m.asa_s, m.abandon_rate(d.abandon_rate), *_requests(s, t0, t1)))
    span = (datetime.combine(starts[0], time(), tz),
            datetime.combine(_next(starts[-1]), time(), tz))
    received: Counter[int] = Counter()
    for (agency_id, _, _), n in tallies.received(s, *span, None).items():
        received[agency_id] += n
    closed: dict[int, tuple[int, int]] = {}
    for (agency_id, _, _), (n, ok) in tallies.closed(s, *span, None).items():
        was = closed.get(agency_id, (0, 0))
        closed[agency_id] = (was[0] + n, was[1] + ok)
    agencies = []
    for agency in s.scalars(select(Agency).order_by(Agency.name)):
        n, on_time = closed.get(agency.id, (0, 0))
        agencies.append({"agency": agency.code, "name": agency.name,
                         "received": int(received.get(agency.id, 0)), "closed": n,
                         "on_time": on_time, "on_time_rate": on_time / n if n else None})
    return months, agencies


def register(bp: Blueprint, web: CrmWeb) -> None:
    @bp.route("/performance")
    @public
    def performance() -> Any:
        """The page; ``?format=csv`` gives the monthly table."""
        tz = ZoneInfo(web.settings.timezone)
        with web.db.session() as s:
            months, agencies = figures(s, web, utcnow().astimezone(tz).date())
        g = goals.goals_for(web.settings, None)
        if request.args.get("format") == "csv":
            out = io.StringIO()
            w = csv.writer(out, lineterminator="\n")
            w.writerow(["month", "calls", "answered", f"service_level_{g.answer_s}s",
                        "asa_s", "abandon_rate", "requests_received", "requests_closed",
                        "closed_on_time"])
            for m in months:
                w.writerow([m.start.strftime("%Y-%m"), m.calls, m.answered,
                            _r(m.service_level), _r(m.asa_s), _r(m.abandon_rate), m.received,
                            m.closed, m.on_time])
            return Response(out.getvalue(), mimetype="text/csv")
        return render_template("crm/performance.html", months=months, agencies=agencies,
                               goals=g, definitions=definitions.from_settings(web.settings),
                               city=web.settings.city_name)


def _r(v: float | None) -> str:
    return "" if v is None else f"{v:.4f}"
