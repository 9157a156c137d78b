"""Pure rules: wrap-up call types, and how open data generalises an address."""

from __future__ import annotations

import pytest

from crm_bridge.open311.public_view import block_of
from crm_bridge.tickets.calltypes import CALL_TYPES, check_wrapup
from crm_bridge.tickets.errors import InvalidInput


def test_call_types() -> None:
    assert CALL_TYPES == ("information", "referral", "service_request", "complaint",
                          "compliment")
    assert check_wrapup("information", None) == "information"
    assert check_wrapup("service_request", "100000016") == "service_request"
    with pytest.raises(InvalidInput) as exc:
        check_wrapup("service_request", None)
    assert exc.value.code == "ticket_required"
    with pytest.raises(InvalidInput):
        check_wrapup("chat", None)


@pytest.mark.parametrize(("address", "block"), [
    ("1234 Main St", "1200 block of Main St"),
    ("  7 Oak Ave ", "0 block of Oak Ave"),
    ("12B Elm St", "0 block of Elm St"),
    ("1520-1524 Broadway", "1500 block of Broadway"),
    ("Broadway & W 4th St", "Broadway & W 4th St"),
    ("", None),
    (None, None),
])
def test_block_of(address: str | None, block: str | None) -> None:
    assert block_of(address) == block
