"""Values a careless user or an attacker types where a page, an API or a webhook expects a
date, a number or a short name: one list, so every fuzz test probes the same edges."""

from __future__ import annotations

from hypothesis import strategies as st

HOSTILE = (
    "", " ", "0001-01-01", "9999-12-31", "0001-01-01T00:00:00", "9999-12-31T23:59:59+14:00",
    "2026-13-45", "2026-02-30T25:61", "Ω☃", "\u202eevil\u202c", "مرحبا", "\x01\x1b[2J\x7f",
    "line\r\nSet-Cookie: x=1", str(10**30), "-1", "-0", "NaN", "inf", "-Infinity", "1e309",
    "0x1F", "١٢٣", "²", "x" * 10_000, "../../etc/passwd", "<script>&amp;'\"", "%00", "${EXTEN}",
)
"""Each is storable text (NUL and lone surrogates are refused for every route at once,
``foundation/web.py`` ``refuse_unstorable``; ``NUL`` below checks that too)."""
NUL = "a\x00b"


def hostile_text() -> st.SearchStrategy[str]:
    """A hostile value, or any text an HTTP form can carry (no lone surrogates)."""
    return st.one_of(st.sampled_from(HOSTILE + (NUL,)),
                     st.text(st.characters(exclude_categories=("Cs",)), max_size=40))
