"""Open data: the tickets in GeoReport bulk style (CSV or JSON) with personal data removed.

Every location, description and note goes through the one public view of a request
(``crm_bridge.open311.public_view``), the same that Open311 GETs answer with: the hundred block
of the address with apartment and unit numbers removed, coordinates rounded
(``public_coordinate_decimals``, 3 by default: about 100 m), the description only for service
types that allow it and with phone numbers and e-mail addresses masked. Left out entirely: the
resident's name, phone, e-mail, account and device ids, the GIS address id, the answers to
probing questions (licence plates, apartment numbers), comments and the call link. CSV cells
that a spreadsheet would run as a formula are made text (``foundation.spreadsheet``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_bridge.models import Ticket
from crm_bridge.open311.public_view import DEFAULT_DECIMALS, public_view
from crm_bridge.open311.queries import Catalog
from crm_bridge.open311.wire import iso
from crm_bridge.tickets.lifecycle import State, plain
from foundation.spreadsheet import cell

FIELDS = ["service_request_id", "requested_datetime", "updated_datetime", "closed_date",
          "expected_datetime", "status", "status_description", "closure_reason", "source",
          "service_code", "service_name", "service_subtype", "agency_responsible", "address",
          "zipcode", "lat", "long", "description", "status_notes"]
SOURCES = {"phone": "Phone", "ivr": "Phone (IVR)", "web": "Website", "open311": "Mobile App/API",
           "email": "Email", "sms": "Text/SMS"}
BATCH = 2000


def bulk_row(t: Ticket, cat: Catalog, tz: tzinfo,
             decimals: int = DEFAULT_DECIMALS) -> dict[str, Any]:
    st = cat.types[t.service_type_id]
    state = State(t.state)
    pv = public_view(t, st.public_description, decimals)
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
        "address": pv.address,
        "zipcode": pv.zipcode,
        "lat": pv.lat,
        "long": pv.long,
        "description": pv.description,
        "status_notes": pv.status_notes,
    }


def rows(session: Session, tz: tzinfo, start: datetime | None = None,
         end: datetime | None = None,
         decimals: int = DEFAULT_DECIMALS) -> Iterator[dict[str, Any]]:
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
            yield bulk_row(t, cat, tz, decimals)
        last_id = batch[-1].id
        session.expunge_all()


def iter_csv(items: Iterator[dict[str, Any]]) -> Iterator[str]:
    """RFC 4180 CSV with a header line, a chunk per batch of rows; text that a spreadsheet
    would run as a formula is made text."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\r\n")
    w.writeheader()
    for n, r in enumerate(items, 1):
        w.writerow({k: cell(v) for k, v in r.items()})
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
