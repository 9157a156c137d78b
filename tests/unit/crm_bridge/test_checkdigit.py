from itertools import pairwise

import pytest

from crm_bridge.tickets.checkdigit import (
    InvalidTicketNumber,
    check_digit,
    is_valid,
    normalize,
    ticket_number,
)


def test_known_verhoeff_vector() -> None:
    assert check_digit("236") == "3"
    assert is_valid("2363")
    assert not is_valid("2364")


def test_ticket_numbers_are_fixed_length_digits_and_valid() -> None:
    for serial in (1, 2, 99, 123_456, 89_999_999):
        n = ticket_number(serial)
        assert n.isdigit() and len(n) == 9
        assert is_valid(n)


def test_every_single_digit_error_is_caught() -> None:
    n = ticket_number(4321)
    for i, ch in enumerate(n):
        for d in "0123456789":
            if d != ch:
                assert not is_valid(n[:i] + d + n[i + 1:])


def test_every_adjacent_transposition_is_caught() -> None:
    for serial in range(1, 3000, 7):
        n = ticket_number(serial)
        for i, (a, b) in enumerate(pairwise(n)):
            if a != b:
                assert not is_valid(n[:i] + b + a + n[i + 2:]), (n, i)


def test_normalize_strips_keypad_and_clerk_noise() -> None:
    n = ticket_number(77)
    assert normalize(f" {n[:3]}-{n[3:6]} {n[6:]}#") == n


@pytest.mark.parametrize("bad", ["", "abc", "12", "1000000110", "１２３４"])
def test_normalize_refuses(bad: str) -> None:
    if bad == "1000000110":
        bad = ticket_number(11)[:-1] + str((int(ticket_number(11)[-1]) + 1) % 10)
    with pytest.raises(InvalidTicketNumber):
        normalize(bad)
