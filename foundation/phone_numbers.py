"""Phone numbers in E.164 (``+14105550123``): the one place where a caller ID from the
carrier, a DID, the city's own number or what an agent typed becomes a canonical number.

North American numbering (country code 1): a number is NPA-NXX-XXXX, both the area code
(NPA) and the exchange (NXX) starting with 2-9. Written as 10 digits, as 11 digits with the
leading 1, with ``+1``, or with any spaces, dots, dashes and parentheses. A number dialled
abroad (``011`` + country code, or ``+`` + country code) keeps its digits.
"""

from __future__ import annotations

import re

PUNCTUATION = re.compile(r"[\s().\-/]")
NANP = re.compile(r"1?([2-9]\d{2}[2-9]\d{6})")
MIN_E164_DIGITS, MAX_E164_DIGITS = 8, 15


def digits_of(raw: str) -> str | None:
    """``raw`` without punctuation and a ``sip:``/``tel:`` prefix or ``@host``; keeps a
    leading ``+``. None when anything else than digits is left."""
    text = raw.strip()
    text = re.sub(r"^(sips?|tel):", "", text, flags=re.IGNORECASE).split("@", 1)[0]
    text = PUNCTUATION.sub("", text)
    body = text[1:] if text.startswith("+") else text
    return text if body.isdigit() else None


def e164(raw: str | None) -> str | None:
    """``raw`` as E.164 (``+`` and 8 to 15 digits), or None when it is not a phone number
    (anonymous, a name, an extension, an N11 code, a North American number that cannot be)."""
    if not raw:
        return None
    text = digits_of(raw)
    if text is None:
        return None
    if text.startswith("+1") or not text.startswith(("+", "011")):
        national = text.removeprefix("+")
        m = NANP.fullmatch(national)
        return f"+1{m.group(1)}" if m else None
    international = text[1:] if text.startswith("+") else text[3:]
    if not MIN_E164_DIGITS <= len(international) <= MAX_E164_DIGITS:
        return None
    return f"+{international}"
