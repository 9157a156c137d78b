"""E.164 normalisation: every way a North American number is written, and what is none."""

from __future__ import annotations

import pytest

from foundation.phone_numbers import e164


@pytest.mark.parametrize(("raw", "expected"), [
    ("4105550123", "+14105550123"),
    ("14105550123", "+14105550123"),
    ("+14105550123", "+14105550123"),
    ("+1 (410) 555-0123", "+14105550123"),
    ("410.555.0123", "+14105550123"),
    ("sip:4105550123@carrier.example", "+14105550123"),
    ("tel:+1-410-555-0123", "+14105550123"),
    ("011 44 20 7946 0000", "+442079460000"),
    ("+442079460000", "+442079460000"),
])
def test_numbers_become_e164(raw: str, expected: str) -> None:
    assert e164(raw) == expected


@pytest.mark.parametrize("raw", [
    None, "", "anonymous", "Restricted", "911", "311", "5550123",  # no area code
    "1105550123",  # an area code cannot start with 1
    "4101550123",  # nor an exchange
    "24105550123",  # 11 digits not starting with 1
    "+1410555012",  # +1 and nine digits
    "+123", "0114412", "+1234567890123456",  # too short, too short, too long
    "410-555-012x",
])
def test_what_is_no_number_is_none(raw: str | None) -> None:
    assert e164(raw) is None
