"""Fuzzy matching of a typed address against the city's streets (pure, rapidfuzz).

The house number must match exactly (a typo there is another house); the street name may be
misspelt or cut short ("mian st", "main"), scored by rapidfuzz's WRatio (0-100)."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import fuzz, utils

from places.address import SUFFIXES

STREET_CUTOFF = 75.0  # below this score a street is not offered
SUFFIX_CODES = frozenset(SUFFIXES.values())


def _core(street: str) -> str:
    """The street name without its suffix: ``MADISON ST`` -> ``MADISON``."""
    words = street.split()
    return " ".join(words[:-1]) if len(words) > 1 and words[-1] in SUFFIX_CODES else street


def street_candidates(typed_street: str, streets: Iterable[str], limit: int = 5,
                      cutoff: float = STREET_CUTOFF) -> list[tuple[str, float]]:
    """The city's street names closest to ``typed_street`` (normalised), best first; a name
    is compared without its suffix (so "ST" alone matches nothing)."""
    choices = list(dict.fromkeys(streets))
    if not typed_street or not choices:
        return []
    typed_core = _core(typed_street)
    typed_suffix = typed_street[len(typed_core):].strip()
    scored = []
    for street in choices:
        if street == typed_street:
            scored.append((street, 100.0))
            continue
        core = _core(street)
        score = fuzz.WRatio(typed_core, core, processor=utils.default_process)
        if typed_suffix and street[len(core):].strip() != typed_suffix:
            score -= 10  # "Main Ave" typed: Main St is likelier a slip than a match
        if score >= cutoff:
            scored.append((street, float(score)))
    scored.sort(key=lambda x: -x[1])
    return scored[:limit]


def rank(typed_number: str, street_scores: dict[str, float],
         rows: Iterable[tuple[int, str, str]]) -> list[tuple[int, float]]:
    """Order address rows ``(id, number, street)`` by street score, an exact house number
    first, then numbers that start with what was typed (search as you type)."""
    scored: list[tuple[int, float]] = []
    for row_id, number, street in rows:
        base = street_scores.get(street)
        if base is None:
            continue
        if typed_number and number != typed_number:
            if not number.startswith(typed_number):
                continue
            base -= 5  # "12" typed: 12 first, then 120, 1201...
        scored.append((row_id, base))
    scored.sort(key=lambda x: -x[1])
    return scored
