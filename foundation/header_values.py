"""Values that end up in a mail header (recipients, subjects) and their one rule (pure).

A CR or LF in a header value would inject headers; the standard library refuses such a value
with a ``ValueError`` at send time, which used to stop the whole notification batch. Every edge
that takes an address checks it with ``email_problem`` and answers with a clear error; the
sender checks again (rows stored before this rule) and cleans subjects with ``one_line``.
"""

from __future__ import annotations

import re
import unicodedata

MAX_EMAIL = 254  # RFC 5321 path limit; the columns hold 255

# local@domain: no spaces, controls or the specials that need quoting; a dotted domain
_EMAIL = re.compile(r"[^@\s\"(),:;<>\[\\\]]{1,64}@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+"
                    r"[^\W\d_]{2,63}")


def has_control(value: str) -> bool:
    """True if ``value`` holds a control character (CR, LF, NUL, TAB, DEL ...)."""
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def email_problem(value: str) -> str | None:
    """Why ``value`` is not a usable e-mail address, or None when it is."""
    if has_control(value):
        return "an e-mail address must not contain line breaks or control characters"
    if len(value) > MAX_EMAIL:
        return f"an e-mail address is at most {MAX_EMAIL} characters"
    if not _EMAIL.fullmatch(value):
        return f"{value!r} is not an e-mail address (name@example.org)"
    return None


def one_line(value: str) -> str:
    """``value`` with every control character (line breaks included) made a space."""
    return "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in value).strip()
