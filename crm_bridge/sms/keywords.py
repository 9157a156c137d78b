"""What an inbound text is (pure): a carrier keyword, a language switch, a ticket number, or
words for the guided exchange. Twilio matches its own opt-out keywords on the whole body,
case and surrounding spaces ignored ("Stop texting me" is not STOP); so does this."""

from __future__ import annotations

import unicodedata
from enum import StrEnum

from crm_bridge.tickets.checkdigit import is_valid

MAX_BODY = 1600  # Twilio's longest message body; anything beyond is cut at the edge
TICKET_DIGITS = 9  # ticket numbers are 9 digits (crm_bridge/tickets/checkdigit.py)


class Keyword(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"
    SPANISH = "es"
    ENGLISH = "en"
    REPORT = "report"
    SKIP = "skip"


WORDS: dict[str, Keyword] = {
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"), Keyword.STOP),
    **dict.fromkeys(("START", "YES", "UNSTOP"), Keyword.START),
    **dict.fromkeys(("HELP", "INFO", "AYUDA"), Keyword.HELP),
    **dict.fromkeys(("ES", "ESPANOL", "SPANISH"), Keyword.SPANISH),
    **dict.fromkeys(("EN", "ENGLISH", "INGLES"), Keyword.ENGLISH),
    **dict.fromkeys(("REPORT", "NEW", "REPORTAR", "NUEVO"), Keyword.REPORT),
    **dict.fromkeys(("SKIP", "NO PHOTO", "OMITIR", "SALTAR"), Keyword.SKIP),
}
# Twilio's Advanced Opt-Out names the keyword it matched (its own list may be longer)
OPT_OUT_TYPES = {"STOP": Keyword.STOP, "START": Keyword.START, "HELP": Keyword.HELP}


def clean(body: str) -> str:
    """The body as one line of text: control characters become spaces, runs of spaces one,
    cut to ``MAX_BODY`` characters."""
    cut = body[:MAX_BODY]
    spaced = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Cs") else ch for ch in cut)
    return " ".join(spaced.split())


def _folded(text: str) -> str:
    """Upper case without accents ("Español" -> "ESPANOL"), trailing punctuation dropped."""
    bare = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(bare.upper().strip(" .!?,;:").split())


def keyword(text: str, opt_out_type: str = "") -> Keyword | None:
    """The keyword the whole text is, if any (``opt_out_type``: Twilio's OptOutType field)."""
    if opt_out_type.upper() in OPT_OUT_TYPES:
        return OPT_OUT_TYPES[opt_out_type.upper()]
    return WORDS.get(_folded(text))


def ticket_digits(text: str) -> str | None:
    """The digits when the whole text is a ticket number's length of digits (spaces, dashes,
    a '#' or 'No.' allowed), else None; they may still fail the check digit."""
    bare = _folded(text).removeprefix("NO").removeprefix("#").strip(" .#")
    digits = "".join(ch for ch in bare if ch not in " -.")
    if len(digits) >= TICKET_DIGITS and digits.isascii() and digits.isdigit():
        return digits
    return None


def valid_ticket(digits: str) -> bool:
    """Whether the digits pass the ticket number's check digit."""
    return is_valid(digits)
