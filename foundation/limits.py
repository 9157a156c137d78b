"""The limits of a text value, read from the model's own column, and the one check every edge
applies before a value reaches the database.

A value longer than its ``String(n)`` column, or holding NUL, is refused by PostgreSQL with an
error that used to surface as a 500; a control character in a one-line value breaks headers,
CSV rows and Open311 XML. So each edge asks ``problem(Model.column, value)`` (refuse with a
clear error) or, for values from a machine we cannot refuse (AMI caller names), ``fit`` (clip
to the column, controls made spaces). The limits are never repeated as numbers elsewhere.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import InstrumentedAttribute

# Free text without a column limit (Text): descriptions, comments, resolutions. Open311 sets
# 4000 characters for a description; the same bound keeps every other note readable.
MAX_TEXT = 4000
# Line breaks and tabs are allowed in free text; every other control character is not.
MULTILINE_OK = frozenset("\n\r\t")
# Instants a person may ask about: beyond these a datetime cannot move by a day or a time
# zone without overflowing (datetime.min/max), which is what year 1 and year 9999 did.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def max_length(column: InstrumentedAttribute[Any]) -> int | None:
    """The column's ``String(n)`` length; None for unbounded text."""
    kind = column.property.columns[0].type
    return kind.length if isinstance(kind, String) else None


def text_problem(value: str, *, limit: int | None, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be stored as text of at most ``limit`` characters, or None."""
    if "\x00" in value:
        return "must not contain NUL characters"
    bad = [ch for ch in value if unicodedata.category(ch) in ("Cc", "Cs")
           and not (multiline and ch in MULTILINE_OK)]
    if bad or "\ufffe" in value or "\uffff" in value:
        return ("must not contain control characters" if multiline
                else "must be one line without control characters")
    if limit is not None and len(value) > limit:
        return f"is limited to {limit} characters"
    return None


def problem(column: InstrumentedAttribute[Any], value: str | None, *,
            multiline: bool = False) -> str | None:
    """``text_problem`` against ``column``'s own limit (``MAX_TEXT`` for unbounded text)."""
    if value is None:
        return None
    return text_problem(value, limit=max_length(column) or MAX_TEXT, multiline=multiline)


def fit(column: InstrumentedAttribute[Any], value: str | None) -> str | None:
    """``value`` made storable in ``column``: control characters as spaces, clipped."""
    if value is None:
        return None
    clean = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in value)
    limit = max_length(column)
    return clean[:limit] if limit is not None else clean


def fitter(model: type, fields: Iterable[str]) -> dict[str, int | None]:
    """The ``String`` fields among ``fields`` of ``model`` with their limits (for ``fit_row``)."""
    out: dict[str, int | None] = {}
    for name in fields:
        column = getattr(model, name)
        if isinstance(column.property.columns[0].type, String):
            out[name] = max_length(column)
    return out


def fit_row(limits: dict[str, int | None], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with each text field of ``limits`` cleaned and clipped as ``fit`` does."""
    out = dict(values)
    for name, limit in limits.items():
        v = out.get(name)
        if isinstance(v, str):
            if not v.isprintable():
                v = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in v)
            out[name] = v[:limit] if limit is not None else v
    return out


def instant_problem(value: datetime) -> str | None:
    """Why an aware ``value`` is outside the range a query may ask about, or None."""
    if not EARLIEST <= value <= LATEST:
        return f"must be between {EARLIEST.year} and {LATEST.year}"
    return None
