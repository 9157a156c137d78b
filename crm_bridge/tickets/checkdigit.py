"""Keypad-friendly ticket numbers with a Verhoeff check digit (pure).

Verhoeff (dihedral group D5) catches every single-digit error and every adjacent
transposition, the two typos a caller makes on a keypad; Luhn misses 09 <-> 90.
A ticket number is ``BASE + serial`` in decimal followed by its check digit, so numbers
have a fixed length (9 digits) for the first 900 million tickets.
"""

from __future__ import annotations

_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)

BASE = 10_000_000  # serial 1 -> "10000001" + check digit


class InvalidTicketNumber(ValueError):
    """The digits are not a ticket number: not all digits, too short, or a failed check digit."""


def check_digit(digits: str) -> str:
    """The Verhoeff check digit to append to ``digits`` (a non-empty string of 0-9)."""
    if not digits or not digits.isascii() or not digits.isdigit():
        raise InvalidTicketNumber("ticket numbers are digits only")
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _D[c][_P[(i + 1) % 8][int(ch)]]
    return str(_INV[c])


def is_valid(number: str) -> bool:
    """True when ``number`` is all digits and its last digit checks."""
    if len(number) < 2 or not number.isascii() or not number.isdigit():
        return False
    c = 0
    for i, ch in enumerate(reversed(number)):
        c = _D[c][_P[i % 8][int(ch)]]
    return c == 0


def ticket_number(serial: int) -> str:
    """The ticket number for a positive serial (the ticket's row id)."""
    if serial < 1:
        raise ValueError("serial must be positive")
    body = str(BASE + serial)
    return body + check_digit(body)


def normalize(typed: str) -> str:
    """Strip spaces, dashes and a trailing '#' a caller or clerk adds; validate; return digits."""
    digits = "".join(ch for ch in typed.strip().rstrip("#") if ch not in " -.")
    if not is_valid(digits):
        raise InvalidTicketNumber("not a valid ticket number (check digit failed)")
    return digits
