"""Caller ID and typed phone numbers match however they are written."""

from __future__ import annotations

from crm_bridge.tickets.phones import digits, variants


def test_digits() -> None:
    assert digits("+1 (555) 010-2030") == "+15550102030"
    assert digits("555.010.2030") == "5550102030"
    assert digits("ext") is None and digits(None) is None


def test_variants_cover_the_country_code() -> None:
    forms = {"+15550102030", "15550102030", "5550102030"}
    for written in ("+1 555 010 2030", "15550102030", "(555) 010-2030"):
        assert forms <= set(variants(written)), written
    assert variants("5550100") == ["5550100"]  # a short internal number stays itself
    assert "5550102030" not in variants("+445550102030")  # another country: not the same line
    assert variants("") == []
