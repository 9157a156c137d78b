"""Phone numbers as the CRM compares them (pure): caller ID and typed numbers differ in
punctuation and in the country code ("+1 555 010 2030", "5550102030", "15550102030")."""

from __future__ import annotations


def digits(phone: str | None) -> str | None:
    """Digits (and a leading '+') of what was typed; None if there are none."""
    if not phone:
        return None
    kept = "".join(ch for ch in phone if ch.isdigit())
    if not kept:
        return None
    return ("+" if phone.strip().startswith("+") else "") + kept


def variants(phone: str | None, country_code: str = "1", national_len: int = 10) -> list[str]:
    """Every stored form the same line may have: as given, without '+', the national number,
    and the national number with the country code (with and without '+')."""
    d = digits(phone)
    if d is None:
        return []
    bare = d.lstrip("+")
    out = {d, bare}
    if len(bare) >= national_len:
        national = bare[-national_len:]
        if bare == national or bare == country_code + national:
            out |= {national, country_code + national, "+" + country_code + national}
    return sorted(out)
