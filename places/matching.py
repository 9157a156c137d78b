"""Fuzzy matching of a typed address against the city's streets (pure, rapidfuzz).

The house number must match exactly (a typo there is another house); the street name may be
misspelt or cut short ("mian st", "main"), scored by rapidfuzz's WRatio (0-100)."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import fuzz, process, utils

STREET_CUTOFF = 75.0  # below this score a street is not offered


def street_candidates(typed_street: str, streets: Iterable[str], limit: int = 5,
                      cutoff: float = STREET_CUTOFF) -> list[tuple[str, float]]:
    """The city's street names closest to ``typed_street`` (normalised), best first."""
    choices = list(streets)
    if not typed_street or not choices:
        return []
    found = process.extract(typed_street, choices, scorer=fuzz.WRatio, limit=limit,
                            score_cutoff=cutoff, processor=utils.default_process)
    exact = [(s, 100.0) for s in choices if s == typed_street]
    rest = [(s, float(score)) for s, score, _ in found if s != typed_street]
    return (exact + rest)[:limit]


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
