"""Open data: the tickets in GeoReport bulk style (CSV or JSON) with personal data removed.

Left out: the resident's name, phone, email, account and device ids, the free-text description
and comments (residents write names and phone numbers into them), the answers to probing
questions (licence plates, apartment numbers), and the call link. Locations are generalised:
a street address becomes its hundred block ("1200 block of Main St") and lat/long is rounded to
3 decimals (about 100 m), so a report cannot be traced to one house.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_bridge.models import Ticket
from crm_bridge.open311.queries import Catalog
from crm_bridge.open311.wire import iso
from crm_bridge.tickets.lifecycle import State, plain

FIELDS = ["service_request_id", "requested_datetime", "updated_datetime", "closed_date",
          "expected_datetime", "status", "status_description", "closure_reason", "source",
          "service_code", "service_name", "service_subtype", "agency_responsible", "address",
          "zipcode", "lat", "long"]
SOURCES = {"phone": "Phone", "ivr": "Phone (IVR)", "web": "Website", "open311": "Mobile App/API",
           "email": "Email", "sms": "Text/SMS"}
_HOUSE = re.compile(r"^\s*(\d+)[A-Za-z]?(?:-\d+)?\s+(.+)$")
BATCH = 2000


def block_of(address: str | None) -> str | None:
    """'1234 Main St' -> '1200 block of Main St'; an address without a number stays as is
    (an intersection or a landmark names no home)."""
    if not address or not address.strip():
        return None
    m = _HOUSE.match(address)
    if not m:
        return address.strip()
    return f"{int(m.group(1)) // 100 * 100} block of {m.group(2).strip()}"


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def bulk_row(t: Ticket, cat: Catalog, tz: tzinfo) -> dict[str, Any]:
    st = cat.types[t.service_type_id]
    state = State(t.state)
    return {
        "service_request_id": t.number,
        "requested_datetime": iso(t.requested_at, tz),
        "updated_datetime": iso(t.updated_at, tz),
        "closed_date": iso(t.closed_at, tz) if state is State.CLOSED else None,
        "expected_datetime": iso(t.due_at, tz),
        "status": "closed" if state is State.CLOSED else "open",
        "status_description": plain(state).capitalize(),
        "closure_reason": t.closure_reason,
        "source": SOURCES.get(t.channel, t.channel),
        "service_code": st.code,
        "service_name": st.name,
        "service_subtype": st.group or None,
        "agency_responsible": cat.agencies[t.agency_id].name,
        "address": block_of(t.address),
        "zipcode": t.zipcode,
        "lat": _round(t.lat),
        "long": _round(t.long),
    }


def rows(session: Session, tz: tzinfo, start: datetime | None = None,
         end: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Every ticket requested in [start, end), oldest first, read in batches (keyset)."""
    cat = Catalog(session)
    last_id = 0
    while True:
        q = select(Ticket).where(Ticket.id > last_id)
        if start is not None:
            q = q.where(Ticket.requested_at >= start)
        if end is not None:
            q = q.where(Ticket.requested_at < end)
        batch = session.scalars(q.order_by(Ticket.id).limit(BATCH)).all()
        if not batch:
            return
        for t in batch:
            yield bulk_row(t, cat, tz)
        last_id = batch[-1].id
        session.expunge_all()


def iter_csv(items: Iterator[dict[str, Any]]) -> Iterator[str]:
    """RFC 4180 CSV with a header line, a chunk per batch of rows."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\r\n")
    w.writeheader()
    for n, r in enumerate(items, 1):
        w.writerow({k: "" if v is None else v for k, v in r.items()})
        if n % BATCH == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def iter_json(items: Iterator[dict[str, Any]]) -> Iterator[str]:
    """One JSON array, a row per line."""
    yield "["
    for n, r in enumerate(items):
        yield ("," if n else "") + "\n" + json.dumps(r, ensure_ascii=False)
    yield "\n]\n"


def write(fmt: str, items: Iterator[dict[str, Any]], out: Any) -> int:
    """Write ``items`` as ``csv`` or ``json`` to a text stream; returns the number of rows."""
    count = [0]

    def counted() -> Iterator[dict[str, Any]]:
        for r in items:
            count[0] += 1
            yield r

    for chunk in (iter_csv if fmt == "csv" else iter_json)(counted()):
        out.write(chunk)
    return count[0]
