"""The public performance page over months of seeded history: open without a log-in, its
figures equal a computation straight from the call records and tickets, and no personal
data reaches it."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from acd.models import CallRecord
from center.history import HistoryOptions, seed_history
from center.seed import seed_demo
from crm_bridge.models import Ticket
from crm_bridge.web.performance import _next, month_starts
from foundation.db import utcnow

PAST = HistoryOptions(months=2.2, volume=60, tickets_per_day=6, seed=9, plan=False)


def expected(db, tz: ZoneInfo, first) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One month's row by the default definitions, from the rows themselves."""
    t0 = datetime.combine(first, time(), tz)
    t1 = datetime.combine(_next(first), time(), tz)
    with db.session() as s:
        calls = [r for r in s.scalars(sa.select(CallRecord).where(
            CallRecord.entered_at >= t0, CallRecord.entered_at < t1,
            CallRecord.outcome.is_not(None))) if not (r.ivr_path or "").startswith("callback:")]
        tickets = list(s.scalars(sa.select(Ticket)))
    short = [c for c in calls if c.outcome == "abandoned" and (c.wait_s or 0) < 5]
    refused = [c for c in calls if c.outcome == "refused"]
    within = [c for c in calls if c.outcome == "answered" and (c.wait_s or 0) <= 30]
    not_served = [c for c in calls if c.outcome in ("timeout", "exit_key", "exit_empty",
                                                    "dropped")
                  or (c.outcome == "abandoned" and (c.wait_s or 0) >= 5)]
    entered = len(calls) - len(refused) - len(short)
    closed = [t for t in tickets if t.closed_at is not None and t0 <= t.closed_at < t1]

    def rate(n: int, d: int) -> str:
        return f"{n / d:.4f}" if d else ""

    return {"calls": str(len(calls)), "service_level_30s": rate(len(within), entered),
            "abandon_rate": rate(len(not_served), len(calls) - len(short)),
            "requests_received": str(sum(1 for t in tickets if t.number
                                         and t0 <= t.requested_at < t1)),
            "requests_closed": str(len(closed)),
            "closed_on_time": str(sum(1 for t in closed if t.due_at and t.closed_at
                                      <= t.due_at))}


def test_public_page_equals_the_records_and_shows_no_personal_data(  # type: ignore[no-untyped-def]
        settings, database, app) -> None:
    list(seed_demo(settings, database))
    list(seed_history(settings, database, PAST))
    client = app.test_client()  # nobody logged in
    page = client.get("/performance")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "how we are doing" in body and 'id="sl-chart"' in body and "goal" in body

    tz = ZoneInfo(settings.timezone)
    res = client.get("/performance?format=csv")
    assert res.status_code == 200 and res.mimetype == "text/csv"
    rows = {r["month"]: r for r in csv.DictReader(io.StringIO(res.get_data(as_text=True)))}
    months = month_starts(utcnow().astimezone(tz).date(), 12)
    assert list(rows) == [m.strftime("%Y-%m") for m in months]
    busy = 0
    for first in months:
        want, got = expected(database, tz, first), rows[first.strftime("%Y-%m")]
        assert {k: got[k] for k in want} == want, first
        busy += int(want["calls"]) > 0 and int(want["requests_closed"]) > 0
    assert busy >= 2  # the seeded months show figures, not an empty shell

    with database.session() as s:  # nothing personal on the page
        callers = {n for n in s.scalars(sa.select(CallRecord.caller_number).limit(200)) if n}
        tickets = list(s.scalars(sa.select(Ticket).limit(200)))
    private = callers | {t.address for t in tickets if t.address} | {
        t.email for t in tickets if t.email} | {t.phone for t in tickets if t.phone} | {
        t.description for t in tickets if t.description and len(t.description) > 12}
    assert private and not [p for p in private if p in body]
    assert not re.search(r"\+1\d{10}", body)
