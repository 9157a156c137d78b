"""The public view's pure rules: units removed, hundred blocks, rounding, masking of phone
numbers and e-mail addresses (dates and short numbers left alone), and the flag."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from crm_bridge.open311.public_view import block_of, masked, public_view, without_unit


@pytest.mark.parametrize(("address", "block"), [
    ("350 W 34th St Apt 4B", "300 block of W 34th St"),
    ("350 W 34th St, Apt. 4B", "300 block of W 34th St"),
    ("350 W 34th St #4B", "300 block of W 34th St"),
    ("Apt 4B, 350 W 34th St", "300 block of W 34th St"),
    ("1234 Main St Unit 12, Brooklyn", "1200 block of Main St, Brooklyn"),
    ("1234A Main St Suite 1200A", "1200 block of Main St"),
    ("77 Main St Floor 3", "0 block of Main St"),
    ("100 Parking Lot Rd", "100 block of Parking Lot Rd"),
    ("Broadway & W 4th St", "Broadway & W 4th St"),
])
def test_addresses_become_blocks_without_units(address: str, block: str) -> None:
    assert block_of(address) == block


def test_a_place_without_a_house_number_keeps_its_name_but_not_its_unit() -> None:
    assert without_unit("City Hall, Room 204") == "City Hall"
    assert block_of("City Hall, Room 204") == "City Hall"


@pytest.mark.parametrize(("text", "shown"), [
    ("call me at (718) 555-0142", "call me at [phone removed]"),
    ("+1 718 555 0142 or 7185550142", "[phone removed] or [phone removed]"),
    ("ext 555-1234 after 6", "ext [phone removed] after 6"),
    ("mail ana.o'hara+311@mail.example.org now", "mail [e-mail removed] now"),
    ("seen 2026-03-01 and 12/03/2026 at 10:30, 3 bags", "seen 2026-03-01 and 12/03/2026 at "
                                                        "10:30, 3 bags"),
    ("house 350, pole 12345", "house 350, pole 12345"),
    ("   ", None),
])
def test_phone_numbers_and_emails_are_masked(text: str, shown: str | None) -> None:
    assert masked(text) == shown


@dataclass
class T:
    address: str | None = "350 W 34th St Apt 4B"
    zipcode: str | None = "10001"
    lat: float | None = 40.752345
    long: float | None = -73.993456
    description: str = "call 718-555-0142"
    status_notes: str | None = None
    resolution: str | None = "told ana@example.org"
    media_url: str | None = "https://img.example/x.jpg"


def test_the_type_decides_whether_the_description_and_photo_are_shown() -> None:
    shown, hidden = public_view(T(), True), public_view(T(), False, decimals=2)
    assert (shown.description, shown.media_url) == ("call [phone removed]",
                                                    "https://img.example/x.jpg")
    assert (hidden.description, hidden.media_url) == (None, None)
    assert (shown.lat, shown.long, hidden.lat, hidden.long) == (40.752, -73.993, 40.75, -73.99)
    assert shown.resolution == hidden.resolution == "told [e-mail removed]"
    assert shown.address == "300 block of W 34th St" and shown.zipcode == "10001"
