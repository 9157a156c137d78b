"""Property-based tests (hypothesis) of the edge validators: whatever text, number or date
comes in, each answers with its own refusal (a message, ValueError, InvalidInput) and never
with another exception; what they accept fits its column and renders as well-formed XML.
Derandomized and bounded: the same cases every run, a second or two in all."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from acd.models import CallRecord
from crm_bridge.models import Ticket
from crm_bridge.open311.wire import parse_request_query, render
from crm_bridge.tickets.draft import TicketDraft
from crm_bridge.tickets.errors import InvalidInput
from crm_bridge.tickets.fields import check_draft
from crm_bridge.tickets.service import idempotency_hash
from foundation import limits
from foundation.timeparse import YEARS, parse_day, parse_instant

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None)
TEXT = st.text(st.characters(codec=None), max_size=300)  # every code point, surrogates too
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
DATES = st.one_of(TEXT, st.datetimes().map(datetime.isoformat),
                  st.dates().map(lambda d: d.isoformat()),
                  st.sampled_from(["0001-01-01", "9999-12-31T23:59:59-05:00",
                                   "0001-01-01T00:00:00+14:00", "9999-12-31"]))


@SETTINGS
@given(TEXT, st.booleans())
def test_accepted_text_fits_its_column_and_xml(value: str, multiline: bool) -> None:
    why = limits.problem(Ticket.address, value, multiline=multiline)
    if why is None:
        assert len(value) <= 255 and "\x00" not in value
        ET.fromstring(render("xml", "r", {"v": value}))
    else:
        assert why.startswith(("must", "is limited"))


@SETTINGS
@given(TEXT)
def test_fit_always_gives_a_storable_value(value: str) -> None:
    out = limits.fit(CallRecord.caller_name, value)
    assert out is not None and len(out) <= 128
    assert limits.text_problem(out, limit=128) is None
    row = limits.fit_row(limits.fitter(CallRecord, ["caller_name", "wait_s"]),
                         {"caller_name": value, "wait_s": 1.0})
    assert row["caller_name"] == out and row["wait_s"] == 1.0


@SETTINGS
@given(TEXT)
def test_rendered_xml_is_always_well_formed(value: str) -> None:
    doc = ET.fromstring(render("xml", "service_requests", [{"description": value}]))
    assert doc.tag == "service_requests"


@SETTINGS
@given(DATES, st.booleans())
def test_dates_parse_within_the_years_or_refuse_with_value_error(value: str,
                                                                 end_of_day: bool) -> None:
    for parse in (lambda: parse_instant(value, naive_zone="America/New_York",
                                        end_of_day=end_of_day), lambda: parse_day(value)):
        try:
            got = parse()
        except ValueError:
            continue
        assert YEARS[0] - 1 <= got.year <= YEARS[1] + 1


@SETTINGS
@given(st.dictionaries(st.sampled_from(["start_date", "end_date", "updated_after",
                                        "updated_before", "page", "page_size", "status",
                                        "service_request_id", "extensions"]), DATES))
def test_open311_queries_parse_or_refuse_with_invalid_input(args: dict[str, str]) -> None:
    from zoneinfo import ZoneInfo

    try:
        q = parse_request_query(args, ZoneInfo("America/New_York"), NOW)
    except InvalidInput:
        return
    assert q.start is None or q.start.tzinfo is not None


VALUES: Any = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | TEXT,
                           lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(TEXT, inner, max_size=3), max_leaves=6)


@SETTINGS
@given(st.fixed_dictionaries({}, optional={
    "address": TEXT, "first_name": TEXT, "phone": TEXT, "media_url": TEXT, "description": TEXT,
    "attributes": st.dictionaries(TEXT, VALUES, max_size=3)}))
def test_a_draft_is_accepted_or_refused_with_invalid_input(fields: dict[str, Any]) -> None:
    draft = TicketDraft("pothole", **fields)
    try:
        check_draft(draft)
    except InvalidInput as exc:
        assert exc.problems
        return
    for name in ("address", "first_name", "phone", "media_url"):
        value = fields.get(name)
        assert value is None or len(value) <= limits.max_length(getattr(Ticket, name))  # type: ignore[operator]


@SETTINGS
@given(TEXT, TEXT)
def test_different_idempotency_keys_never_share_a_hash(a: str, b: str) -> None:
    assert (idempotency_hash(a) == idempotency_hash(b)) == (a == b)
    assert len(idempotency_hash(a)) <= limits.max_length(Ticket.idempotency_key)  # type: ignore[operator]
