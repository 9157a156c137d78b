"""Which request type a message is (pure): the catalog's type names and keywords matched
against the subject and text, whole words only (a plural too); the most phrases found wins.

A type whose questions must be answered cannot be opened from a message that never answers
them, so a match on one is given as a hint and the message goes to the fallback type (the
catalog's general request), where an agent reclassifies it."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class TypeCard:
    code: str
    name: str
    keywords: tuple[str, ...]
    needs_answers: bool  # a required question


@dataclass(frozen=True)
class Choice:
    code: str
    hint: str | None  # the type it looked like, when that type needs answers


def _found(phrase: str, text: str) -> bool:
    phrase = phrase.strip().lower()
    return bool(phrase) and re.search(rf"\b{re.escape(phrase)}(?:s|es)?\b", text) is not None


def score(card: TypeCard, text: str) -> int:
    """How many of the type's phrases (its name and keywords) ``text`` holds."""
    return sum(_found(p, text) for p in (card.name, *card.keywords))


def choose(subject: str, text: str, cards: list[TypeCard], fallback: str) -> Choice:
    """The type to open; ``fallback`` when nothing matches or the match needs answers."""
    words = f"{subject}\n{text}".lower()
    ranked = sorted(((score(c, words), c) for c in cards if c.code != fallback),
                    key=lambda sc: -sc[0])
    if not ranked or ranked[0][0] == 0:
        return Choice(fallback, None)
    best = ranked[0][1]
    return Choice(fallback, best.name) if best.needs_answers else Choice(best.code, None)
