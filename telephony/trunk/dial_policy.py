"""Which numbers an agent may call out to (North American numbering), as one table of rules
that both sides enforce: civic311 classifies a number before it asks Asterisk to dial it
(``decide``), and the same rules are rendered as extension patterns into extensions.conf
(``[civic311-outbound]``), so a desk phone dialling directly meets the same policy.

Allowed always: 911 and the other N11 codes (211, 311, 411, 511, 611, 711, 811), local and
long-distance numbers (NXX-NXX-XXXX, with or without the leading 1) and toll-free numbers
(800, 833, 844, 855, 866, 877, 888). Refused unless an administrator allows them (settings
``trunk.allow_international`` / ``trunk.allow_premium``): international calls (011 ...) and
premium-rate numbers (area code 900, exchange 976). Anything else is not a number.

Which rule a number falls under is decided as Asterisk decides it: the most specific
pattern that matches wins (a literal digit is narrower than ``N``, ``N`` than ``X``, and
``.`` is the widest).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from foundation.phone_numbers import digits_of


class NumberKind(StrEnum):
    """What a dialled number is (``outbound_calls.kind``)."""

    EMERGENCY = "emergency"  # 911
    SERVICE = "service"  # the other N11 codes
    LOCAL = "local"  # NANP local and long distance
    TOLL_FREE = "toll_free"
    PREMIUM = "premium"
    INTERNATIONAL = "international"
    INVALID = "invalid"


@dataclass(frozen=True)
class Rule:
    pattern: str  # an Asterisk extension pattern (a literal when it has no N, X, Z, [ or .)
    kind: NumberKind
    to_carrier: str  # the number the carrier gets, as a dialplan expression of ${EXTEN}

    @property
    def extension(self) -> str:
        """The pattern as extensions.conf writes it (``_`` before a pattern)."""
        return self.pattern if self.pattern.isdigit() else f"_{self.pattern}"


TOLL_FREE_CODES = ("800", "833", "844", "855", "866", "877", "888")

RULES: tuple[Rule, ...] = (
    Rule("911", NumberKind.EMERGENCY, "911"),
    Rule("N11", NumberKind.SERVICE, "${EXTEN}"),
    Rule("NXXNXXXXXX", NumberKind.LOCAL, "+1${EXTEN}"),
    Rule("1NXXNXXXXXX", NumberKind.LOCAL, "+${EXTEN}"),
    *(Rule(f"{code}NXXXXXX", NumberKind.TOLL_FREE, "+1${EXTEN}") for code in TOLL_FREE_CODES),
    *(Rule(f"1{code}NXXXXXX", NumberKind.TOLL_FREE, "+${EXTEN}") for code in TOLL_FREE_CODES),
    Rule("900NXXXXXX", NumberKind.PREMIUM, "+1${EXTEN}"),
    Rule("1900NXXXXXX", NumberKind.PREMIUM, "+${EXTEN}"),
    Rule("NXX976XXXX", NumberKind.PREMIUM, "+1${EXTEN}"),
    Rule("1NXX976XXXX", NumberKind.PREMIUM, "+${EXTEN}"),
    Rule("011.", NumberKind.INTERNATIONAL, "+${EXTEN:3}"),
    Rule("X.", NumberKind.INVALID, ""),
)

ALWAYS = frozenset({NumberKind.EMERGENCY, NumberKind.SERVICE, NumberKind.LOCAL,
                    NumberKind.TOLL_FREE})


@dataclass(frozen=True)
class Allowances:
    """What an administrator allows beyond the rules' defaults."""

    international: bool = False
    premium: bool = False


@dataclass(frozen=True)
class Decision:
    dial: str  # the digits Asterisk is asked to dial (its ${EXTEN}); "" when none
    kind: NumberKind
    allowed: bool
    reason: str  # for a person: why it is refused, or what it is


def allowed(kind: NumberKind, allow: Allowances) -> bool:
    if kind in ALWAYS:
        return True
    if kind is NumberKind.PREMIUM:
        return allow.premium
    if kind is NumberKind.INTERNATIONAL:
        return allow.international
    return False


_BREADTH = {"N": 8, "X": 10, "Z": 9}


@cache
def _compiled(pattern: str) -> tuple[re.Pattern[str], tuple[int, ...]]:
    """A rule's pattern as a regular expression, and its breadth per position (Asterisk
    prefers the pattern narrower at the first position where two differ)."""
    regex, breadth, i = [], [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "[":
            end = pattern.index("]", i)
            regex.append(pattern[i:end + 1])
            breadth.append(end - i - 1)
            i = end + 1
            continue
        if c == ".":
            regex.append(r"\d+")
            breadth.append(11)
        elif c in _BREADTH:
            regex.append({"N": "[2-9]", "X": r"\d", "Z": "[1-9]"}[c])
            breadth.append(_BREADTH[c])
        else:
            regex.append(re.escape(c))
            breadth.append(1)
        i += 1
    return re.compile("".join(regex)), tuple(breadth)


def rule_for(dial: str) -> Rule | None:
    """The rule Asterisk would run for the digits ``dial`` (None: no digits)."""
    matching = [r for r in RULES if _compiled(r.pattern)[0].fullmatch(dial)]
    return min(matching, key=lambda r: _compiled(r.pattern)[1], default=None)


def dialled_digits(raw: str) -> str | None:
    """What a person typed as North American dialled digits: ``+1 (410) 555-0123`` ->
    ``14105550123``, ``+44 20 ...`` -> ``01144 20 ...`` without spaces; None if not digits."""
    text = digits_of(raw)
    if not text:
        return None
    if text.startswith("+1"):
        return text[1:]
    if text.startswith("+"):
        return "011" + text[1:]
    return text


def decide(raw: str, allow: Allowances) -> Decision:
    """May an agent call ``raw``? (the same answer extensions.conf gives)."""
    dial = dialled_digits(raw)
    rule = rule_for(dial) if dial else None
    if dial is None or rule is None or rule.kind is NumberKind.INVALID:
        return Decision(dial or "", NumberKind.INVALID, False,
                        f"{raw.strip()[:40]!r} is not a number that can be called")
    if not allowed(rule.kind, allow):
        what = ("international numbers" if rule.kind is NumberKind.INTERNATIONAL
                else "premium-rate numbers (900, 976)")
        return Decision(dial, rule.kind, False,
                        f"calls to {what} are not allowed; an administrator can allow them")
    return Decision(dial, rule.kind, True, str(rule.kind).replace("_", "-"))


# what a number may be called back at through the carrier (not 911, not N11 service codes)
CALLBACK_KINDS = frozenset({NumberKind.LOCAL, NumberKind.TOLL_FREE, NumberKind.INTERNATIONAL})


def carrier_number(raw: str, allow: Allowances) -> str | None:
    """The number the carrier is given for ``raw`` (its rule's ``to_carrier`` expanded, as
    extensions.conf does it: ``+14105550142``), when the dial policy lets it out and it is a
    number a person can be called back at; else None."""
    decision = decide(raw, allow)
    rule = rule_for(decision.dial) if decision.allowed else None
    if rule is None or rule.kind not in CALLBACK_KINDS:
        return None
    return rule.to_carrier.replace("${EXTEN:3}", decision.dial[3:]).replace(
        "${EXTEN}", decision.dial)

