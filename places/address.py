"""Parse and normalise a typed US address (pure): ``"123 north main street apt 4"`` ->
``123 N MAIN ST``. usaddress labels the parts; USPS Publication 28 abbreviations make two
spellings of one address compare equal."""

from __future__ import annotations

import re
from dataclasses import dataclass

import usaddress
from rapidfuzz import fuzz

# USPS Publication 28, appendix C1 (street suffixes) and B (directionals): the common ones.
SUFFIXES = {
    "ALLEY": "ALY", "AVENUE": "AVE", "AV": "AVE", "AVE": "AVE", "BOULEVARD": "BLVD",
    "BLVD": "BLVD", "CIRCLE": "CIR", "CIR": "CIR", "COURT": "CT", "CT": "CT", "DRIVE": "DR",
    "DR": "DR", "EXPRESSWAY": "EXPY", "HIGHWAY": "HWY", "HWY": "HWY", "LANE": "LN", "LN": "LN",
    "PARKWAY": "PKWY", "PKWY": "PKWY", "PLACE": "PL", "PL": "PL", "PLAZA": "PLZ", "ROAD": "RD",
    "RD": "RD", "SQUARE": "SQ", "STREET": "ST", "STR": "ST", "ST": "ST", "TERRACE": "TER",
    "TER": "TER", "TRAIL": "TRL", "WAY": "WAY",
}
DIRECTIONS = {"NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W", "NORTHEAST": "NE",
              "NORTHWEST": "NW", "SOUTHEAST": "SE", "SOUTHWEST": "SW"}
ORDINALS = {"FIRST": "1ST", "SECOND": "2ND", "THIRD": "3RD", "FOURTH": "4TH", "FIFTH": "5TH",
            "SIXTH": "6TH", "SEVENTH": "7TH", "EIGHTH": "8TH", "NINTH": "9TH", "TENTH": "10TH"}
STREET_LABELS = ("StreetNamePreModifier", "StreetNamePreDirectional", "StreetNamePreType",
                 "StreetName", "StreetNamePostType", "StreetNamePostDirectional")
MAX_LEN = 200
ORDINAL_SLIP = 83.0  # "SNCOND", "FOUTH" -> 2ND, 4TH (the street is stored as "2ND ST")


class AddressError(ValueError):
    """Text that is not an address we can read (empty, too long, no street)."""


@dataclass(frozen=True)
class ParsedAddress:
    number: str  # "123", "" when none was typed
    street: str  # normalised: "N MAIN ST"
    unit: str = ""  # "APT 4"
    zipcode: str = ""

    @property
    def line(self) -> str:
        """The normalised first line, ``123 N MAIN ST APT 4``."""
        return " ".join(p for p in (self.number, self.street, self.unit) if p)


def _word(word: str, label: str) -> str:
    w = word.upper().strip(".,#")
    if label in ("StreetNamePostType", "StreetNamePreType"):
        return SUFFIXES.get(w, w)
    if label.endswith("Directional"):
        return DIRECTIONS.get(w, w)
    if label == "StreetName":
        return ORDINALS.get(w) or _ordinal_slip(w)
    return w


def _ordinal_slip(word: str) -> str:
    """A misspelt ordinal word as its number (once stored as "2ND", "SECOND" misspelt could
    not be matched fuzzily at all); same first letter and a close spelling, else the word."""
    if len(word) < 5 or not word.isalpha():
        return word
    best = max(ORDINALS, key=lambda o: fuzz.ratio(word, o))
    if best[0] == word[0] and fuzz.ratio(word, best) >= ORDINAL_SLIP:
        return ORDINALS[best]
    return word


def parse(text: str) -> ParsedAddress:
    """The parts of a typed address, normalised; AddressError when it has no street."""
    clean = " ".join(re.sub(r"[^\w\s#.,'/-]", " ", text or "").split())
    if not clean:
        raise AddressError("the address is empty")
    if len(clean) > MAX_LEN:
        raise AddressError(f"an address is at most {MAX_LEN} characters")
    parts: dict[str, list[str]] = {}
    for word, label in usaddress.parse(clean):  # parse, not tag: never raises on odd input
        parts.setdefault(label, []).append(_word(word, label))
    street = " ".join(w for label in STREET_LABELS for w in parts.get(label, []))
    number = "".join(parts.get("AddressNumber", [])[:1])
    if not street:  # "123" alone, or a word usaddress took for something else
        words = clean.upper().split()
        if words and words[0].isdigit():
            number, words = words[0], words[1:]
        street = " ".join(SUFFIXES.get(w, w) if i == len(words) - 1 else w
                          for i, w in enumerate(words))
    if not street:
        raise AddressError("no street in the address")
    unit = " ".join(parts.get("OccupancyType", []) + parts.get("OccupancyIdentifier", []))
    return ParsedAddress(number=number, street=street, unit=unit,
                         zipcode="".join(parts.get("ZipCode", [])[:1])[:5])


def normalize(text: str) -> str:
    """The comparable form of an address line (``123 N MAIN ST``); AddressError if none."""
    return parse(text).line
