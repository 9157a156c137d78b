"""The public view of a service request (pure): what anyone may read without logging in.

Every public surface builds its answer from ``public_view``: Open311 ``GET requests`` and
``requests/{id}``, the open-data export, the resident's request page (the reopen link) and the
IVR's status by number (``crm_bridge.public``). Staff pages and the staff API read the ticket
itself. The rules:

- the address becomes its hundred block ("350 W 34th St Apt 4B" -> "300 block of W 34th St"):
  apartment, unit, suite and floor numbers are removed first; an address with no house number
  (an intersection, a landmark) names no home and stays as written, units removed;
- the GIS address id (one house) is left out; the ZIP code stays;
- coordinates are rounded to ``decimals`` places (3: about 110 m north-south, less east-west);
- the resident's description and photo link are shown only when the service type says so
  (``public_description`` in the catalog, off unless set), and then with phone numbers and
  e-mail addresses masked; staff-written text that reaches the public (status notes, the
  resolution) is masked the same way.

No flask or sqlalchemy here: the ticket is anything with the attributes of ``TicketLike``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

DEFAULT_DECIMALS = 3
PHONE_MASK = "[phone removed]"
EMAIL_MASK = "[e-mail removed]"

_UNIT = re.compile(
    r"[,\s]*(?:(?:\b(?:apt|apartment|unit|suite|ste|fl|flr|floor|rm|room)\b\.?\s*#?|#)\s*"
    r"[\w-]{1,8}(?=$|[\s,;])|\b(?:bsmt|basement)\b)", re.IGNORECASE)
_HOUSE = re.compile(r"^\s*(\d+)[A-Za-z]?(?:[-/]\d+[A-Za-z]?)?\s+(.+)$")
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w])\+?\(?\d[\d\s().-]{5,}\d(?![\w])")
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 7, 15


class TicketLike(Protocol):
    address: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    description: str
    status_notes: str | None
    resolution: str | None
    media_url: str | None


@dataclass(frozen=True)
class PublicView:
    address: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    description: str | None  # None unless the service type shows descriptions
    media_url: str | None  # the resident's photo: with the description, or not at all
    status_notes: str | None
    resolution: str | None


def without_unit(address: str) -> str:
    """'350 W 34th St, Apt 4B' -> '350 W 34th St' (apartment, unit, suite, floor, '#4B')."""
    cut = _UNIT.sub("", address)
    return re.sub(r"\s{2,}", " ", cut).strip(" ,;")


def block_of(address: str | None) -> str | None:
    """'1234 Main St Apt 2' -> '1200 block of Main St'; an address without a house number
    (an intersection or a landmark names no home) stays as is, units removed."""
    if not address or not address.strip():
        return None
    plain = without_unit(address)
    m = _HOUSE.match(plain)
    if not m:
        return plain or None
    return f"{int(m.group(1)) // 100 * 100} block of {m.group(2).strip()}"


def rounded(x: float | None, decimals: int = DEFAULT_DECIMALS) -> float | None:
    """A coordinate rounded to ``decimals`` places (3: about 100 m)."""
    return None if x is None else round(x, decimals)


def _phone(m: re.Match[str]) -> str:
    text = m.group(0)
    digits = sum(ch.isdigit() for ch in text)
    if not MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS or _DATE.fullmatch(text.strip()):
        return text
    return PHONE_MASK


def masked(text: str | None) -> str | None:
    """``text`` with e-mail addresses and phone numbers (7 to 15 digits, any punctuation)
    replaced by a mark; dates are left alone. None and blank text give None."""
    if text is None or not text.strip():
        return None
    return _PHONE.sub(_phone, _EMAIL.sub(EMAIL_MASK, text))


def public_view(t: TicketLike, shows_description: bool,
                decimals: int = DEFAULT_DECIMALS) -> PublicView:
    """The parts of a ticket that carry personal data, as the public may see them."""
    return PublicView(
        address=block_of(t.address),
        zipcode=t.zipcode,
        lat=rounded(t.lat, decimals),
        long=rounded(t.long, decimals),
        description=masked(t.description) if shows_description else None,
        media_url=t.media_url if shows_description else None,
        status_notes=masked(t.status_notes),
        resolution=masked(t.resolution),
    )
