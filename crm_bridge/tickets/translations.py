"""A service type's words in other languages (pure): the catalog's optional ``i18n`` block,
validated against the type's own attributes, and the type's texts in a language.

English is the catalog's base text (``name``, ``description``...); ``i18n`` adds other
languages beside it, so an English-only catalog stays valid unchanged::

    i18n:
      es:
        name: Bache
        description: Un hoyo o hundimiento en la superficie de la calle.
        attributes:
          size: {description: "¿Qué tamaño tiene?", values: {small: Más chico que un plato}}

Only words are translated: attribute codes and list keys (what a ticket stores) are the
same in every language. A text left out falls back to English.
"""

from __future__ import annotations

from typing import Any

from crm_bridge.tickets.errors import InvalidInput

FIELDS = ("name", "group", "description", "faq")
LANGUAGE_CHARS = set("abcdefghijklmnopqrstuvwxyz")
BASE = "en"


def _text(code: str, where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("i18n_text", f"{code}: i18n {where} must be a non-empty text")
    if where.endswith(".name") and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InvalidInput("i18n_text", f"{code}: i18n {where}: no line breaks or control "
                           "characters in a name")  # names go into mail subjects
    return value.strip()


def _unknown(code: str, where: str, given: dict[str, Any], known: Any) -> None:
    extra = sorted(str(k) for k in given if k not in known)
    if extra:
        raise InvalidInput("i18n_unknown", f"{code}: i18n {where} has unknown {extra[0]!r} "
                           f"(expected one of {', '.join(sorted(str(k) for k in known))})")


def _attributes(code: str, lang: str, raw: Any,
                defs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    where = f"{lang}.attributes"
    if not isinstance(raw, dict):
        raise InvalidInput("i18n_shape", f"{code}: i18n {where} must map attribute codes "
                           "to {description, values}")
    by_code = {d["code"]: d for d in defs}
    _unknown(code, where, raw, by_code)
    out: dict[str, dict[str, Any]] = {}
    for attr, words in raw.items():
        at = f"{where}.{attr}"
        if not isinstance(words, dict):
            raise InvalidInput("i18n_shape", f"{code}: i18n {at} must hold description "
                               "and/or values")
        _unknown(code, at, words, ("description", "values"))
        entry: dict[str, Any] = {}
        if "description" in words:
            entry["description"] = _text(code, f"{at}.description", words["description"])
        if "values" in words:
            values = words["values"]
            keys = [v["key"] for v in by_code[attr]["values"]]
            if not isinstance(values, dict):
                raise InvalidInput("i18n_shape", f"{code}: i18n {at}.values must map list "
                                   "keys to names")
            if any(isinstance(k, bool) for k in values):
                raise InvalidInput("i18n_unknown", f"{code}: i18n {at}.values: quote the "
                                   "keys \"yes\" and \"no\" (YAML reads them as true/false)")
            _unknown(code, f"{at}.values", {str(k): v for k, v in values.items()}, keys)
            entry["values"] = {str(k): _text(code, f"{at}.values.{k}.name", v)
                               for k, v in values.items()}
        out[str(attr)] = entry
    return out


def normalize_translations(code: str, raw: Any,
                           defs: list[dict[str, Any]]) -> dict[str, dict[str, Any]] | None:
    """The ``i18n`` block checked against the type's normalized attribute ``defs``, or
    InvalidInput naming the first thing wrong; None when there is none."""
    if raw is None or raw == {}:
        return None
    if not isinstance(raw, dict):
        raise InvalidInput("i18n_shape", f"{code}: i18n must map a language code (es) to "
                           "its texts")
    out: dict[str, dict[str, Any]] = {}
    for lang, words in raw.items():
        tag = str(lang)
        if len(tag) != 2 or not set(tag) <= LANGUAGE_CHARS or tag == BASE:
            raise InvalidInput("i18n_language", f"{code}: i18n language {tag!r} must be a "
                               "two-letter lower-case code other than en (English is the "
                               "base text)")
        if not isinstance(words, dict):
            raise InvalidInput("i18n_shape", f"{code}: i18n {tag} must hold name, group, "
                               "description, faq and/or attributes")
        _unknown(code, tag, words, (*FIELDS, "attributes"))
        entry: dict[str, Any] = {f: _text(code, f"{tag}.{f}", words[f])
                                 for f in FIELDS if f in words}
        if "attributes" in words:
            entry["attributes"] = _attributes(code, tag, words["attributes"], defs)
        out[tag] = entry
    return out


def text(translations: dict[str, Any] | None, lang: str, field: str, english: str) -> str:
    """``field`` (name, group, description, faq) in ``lang``, else the English text."""
    return str(((translations or {}).get(lang) or {}).get(field) or english)


def definitions(defs: list[dict[str, Any]], translations: dict[str, Any] | None,
                lang: str) -> list[dict[str, Any]]:
    """The attribute definitions with their question and choice names in ``lang`` (codes
    and keys unchanged, so the answers stored are the same in every language)."""
    words = ((translations or {}).get(lang) or {}).get("attributes") or {}
    out = []
    for d in defs:
        tr = words.get(d["code"]) or {}
        names = tr.get("values") or {}
        out.append({**d, "description": tr.get("description") or d["description"],
                    "values": [{**v, "name": names.get(v["key"]) or v["name"]}
                               for v in d.get("values") or []]})
    return out


def languages(all_translations: list[dict[str, Any] | None]) -> set[str]:
    """The languages a catalog speaks: English and every one some type translates."""
    return {BASE, *(lang for tr in all_translations for lang in (tr or {}))}


def pick(asked: list[str], spoken: set[str]) -> str:
    """The first of ``asked`` (language tags such as ``es-US`` or ``es_MX``, best first)
    whose language is ``spoken``, else English."""
    for tag in asked:
        base = tag.replace("_", "-").split("-")[0].strip().lower()
        if base in spoken:
            return base
    return BASE


def prune(translations: dict[str, Any] | None,
          defs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The stored translations without the questions and choices ``defs`` no longer have
    (the staff form edits the English questions only), so an export imports again."""
    if not translations:
        return translations
    by_code = {d["code"]: {v["key"] for v in d.get("values") or []} for d in defs}
    out: dict[str, Any] = {}
    for lang, words in translations.items():
        attrs = {code: {**tr, **({"values": {k: v for k, v in tr["values"].items()
                                             if k in by_code[code]}} if "values" in tr else {})}
                 for code, tr in (words.get("attributes") or {}).items() if code in by_code}
        out[lang] = {**words, "attributes": attrs} if "attributes" in words else dict(words)
    return out
