"""GeoReport v2 wire format (pure): datetimes, JSON/XML rendering, errors, query parsing.

JSON is the "Spark" mapping of the XML: a list under key ``K`` becomes ``<K><k>...</k></K>``.
Ids and codes are strings; datetimes are ISO 8601 with an offset and no fractions.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from crm_bridge.tickets.errors import InvalidInput
from foundation.timeparse import YEARS

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
CHILD = {"services": "service", "service_requests": "request", "attributes": "attribute",
         "values": "value", "errors": "error", "endpoints": "endpoint", "formats": "format",
         "notes": "note"}
MAX_PAGE_SIZE = 1000
DEFAULT_WINDOW = timedelta(days=90)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def iso(dt: datetime | None, tz: tzinfo = UTC) -> str | None:
    """``2010-01-01T00:00:00-05:00``: the city's offset, whole seconds."""
    if dt is None:
        return None
    return dt.astimezone(tz).replace(microsecond=0).isoformat()


def parse_iso(name: str, value: str, tz: tzinfo) -> datetime:
    """An ISO 8601 query value; a value without offset is taken in the city's zone."""
    try:
        dt = datetime.fromisoformat(value.strip().replace("z", "Z").replace(" ", "+"))
    except ValueError:
        raise InvalidInput(name, f"{name} must be an ISO 8601 date/time, "
                                 "e.g. 2026-01-01T00:00:00Z") from None
    if not YEARS[0] <= dt.year <= YEARS[1]:  # year 1 or 9999 overflowed the 90-day window
        raise InvalidInput(name, f"{name} must be within the years {YEARS[0]} to {YEARS[1]}")
    dt = dt if dt.tzinfo else dt.replace(tzinfo=tz)
    try:
        return dt.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(name, f"{name} is out of range") from None


def xml_text(value: str) -> str:
    """``value`` with the characters XML 1.0 cannot hold (controls but tab and line breaks,
    lone surrogates, U+FFFE/U+FFFF) made U+FFFD, so the document is always well-formed; new
    text is refused at the edge, this covers what was stored before."""
    return _NOT_XML.sub("\ufffd", value)


def _xml_value(parent: ET.Element, key: str, value: Any) -> None:
    el = ET.SubElement(parent, key)
    if isinstance(value, dict):
        for k, v in value.items():
            _xml_value(el, k, v)
    elif isinstance(value, list):
        child = CHILD.get(key, key[:-1] if key.endswith("s") else "item")
        for item in value:
            _xml_value(el, child, item)
    elif isinstance(value, bool):
        el.text = "true" if value else "false"
    elif value is not None:
        el.text = xml_text(str(value))


def render(fmt: str, root: str, value: Any) -> str:
    """Serialize ``value`` (list or dict) as JSON, or as XML under ``root``."""
    if fmt == "json":
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    doc = ET.Element(root)
    if isinstance(value, list):
        child = CHILD.get(root, "item")
        for item in value:
            _xml_value(doc, child, item)
    else:
        for k, v in value.items():
            _xml_value(doc, k, v)
    return '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(doc, encoding="unicode")


def errors(pairs: list[tuple[int, str]]) -> list[dict[str, Any]]:
    return [{"code": code, "description": text} for code, text in pairs]


@dataclass
class RequestQuery:
    """Parsed filters of ``GET /requests``."""

    ids: list[str] | None = None
    service_codes: list[str] | None = None
    statuses: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    page: int = 1
    page_size: int = MAX_PAGE_SIZE
    extensions: bool = False
    problems: list[str] = field(default_factory=list)


def _csv(value: str | None) -> list[str] | None:
    if value is None or not value.strip():
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _int(name: str, value: str | None, default: int, lo: int, hi: int) -> int:
    if value is None or not value.strip():
        return default
    try:
        n = int(value)
    except ValueError:
        raise InvalidInput(name, f"{name} must be a whole number") from None
    if not lo <= n <= hi:
        raise InvalidInput(name, f"{name} must be between {lo} and {hi}")
    return n


def parse_request_query(args: dict[str, str], tz: tzinfo, now: datetime) -> RequestQuery:
    """Apply the spec's rules: empty = absent; ids override the rest; 90-day default window."""
    def opt(name: str) -> str | None:
        v = args.get(name)
        return v if v is not None and v.strip() else None

    q = RequestQuery(extensions=(opt("extensions") or "").lower() == "true")
    q.page = _int("page", opt("page"), 1, 1, 1_000_000)
    q.page_size = _int("page_size", opt("page_size"), MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    q.ids = _csv(opt("service_request_id"))
    if q.ids is not None:
        return q
    q.service_codes = _csv(opt("service_code"))
    q.statuses = _csv(opt("status"))
    if q.statuses and any(s not in ("open", "closed") for s in q.statuses):
        raise InvalidInput("status", "status must be open, closed, or both comma-separated")
    for name in ("start_date", "end_date", "updated_after", "updated_before"):
        raw = opt(name)
        if raw is not None:
            setattr(q, {"start_date": "start", "end_date": "end"}.get(name, name),
                    parse_iso(name, raw, tz))
    if q.start and q.end:
        if q.end < q.start:
            raise InvalidInput("end_date", "end_date is before start_date")
        if q.end - q.start > DEFAULT_WINDOW:
            raise InvalidInput("end_date", "start_date to end_date may span at most 90 days")
    elif q.end and not q.start:
        q.start = q.end - DEFAULT_WINDOW
    elif not q.start and not q.updated_after and not q.updated_before:
        q.start = now - DEFAULT_WINDOW
    return q
