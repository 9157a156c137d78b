"""A service type's translations (pure): the catalog's ``i18n`` block is refused with a
clear error when its shape is wrong, read with an English fallback, and keeps the codes and
keys a ticket stores."""

from __future__ import annotations

from typing import Any

import pytest

from crm_bridge.tickets.attributes import normalize_definitions
from crm_bridge.tickets.errors import InvalidInput
from crm_bridge.tickets.translations import (
    definitions,
    languages,
    normalize_translations,
    pick,
    prune,
    text,
)

DEFS = normalize_definitions([
    {"code": "size", "datatype": "singlevaluelist", "required": True,
     "description": "How big is the pothole?",
     "values": [{"key": "small", "name": "Small"}, {"key": "large", "name": "Large"}]},
    {"code": "wet", "datatype": "singlevaluelist", "description": "Is it wet?",
     "values": [{"key": "yes", "name": "Yes"}, {"key": "no", "name": "No"}]},
    {"code": "note", "datatype": "string", "description": "Anything else?"},
])
ES = {"es": {"name": "Bache", "description": "Un hoyo.",
             "attributes": {"size": {"description": "¿Qué tamaño tiene?",
                                     "values": {"small": "Pequeño"}}}}}


def test_a_good_block_is_kept_and_read_with_an_english_fallback() -> None:
    tr = normalize_translations("pothole", ES, DEFS)
    assert tr == ES
    assert text(tr, "es", "name", "Pothole") == "Bache"
    assert text(tr, "es", "group", "Streets") == "Streets"  # not translated: English
    assert text(tr, "fr", "name", "Pothole") == "Pothole"
    assert text(None, "es", "name", "Pothole") == "Pothole"
    spanish = definitions(DEFS, tr, "es")
    assert [d["description"] for d in spanish] == ["¿Qué tamaño tiene?", "Is it wet?",
                                                   "Anything else?"]
    assert spanish[0]["values"] == [{"key": "small", "name": "Pequeño"},
                                    {"key": "large", "name": "Large"}]
    assert [d["code"] for d in spanish] == [d["code"] for d in DEFS]
    assert definitions(DEFS, tr, "en") == DEFS
    assert normalize_translations("pothole", None, DEFS) is None
    assert normalize_translations("pothole", {}, DEFS) is None


@pytest.mark.parametrize(("raw", "code", "says"), [
    ("Bache", "i18n_shape", "must map a language code"),
    ({"en": {"name": "Pothole"}}, "i18n_language", "other than en"),
    ({"spanish": {"name": "Bache"}}, "i18n_language", "two-letter"),
    ({"ES": {"name": "Bache"}}, "i18n_language", "lower-case"),
    ({"es": "Bache"}, "i18n_shape", "i18n es must hold"),
    ({"es": {"title": "Bache"}}, "i18n_unknown", "unknown 'title'"),
    ({"es": {"name": ""}}, "i18n_text", "es.name must be a non-empty text"),
    ({"es": {"name": 7}}, "i18n_text", "es.name must be a non-empty text"),
    ({"es": {"name": "Bache\nBcc: x@y"}}, "i18n_text", "no line breaks"),
    ({"es": {"attributes": ["size"]}}, "i18n_shape", "must map attribute codes"),
    ({"es": {"attributes": {"depth": {"description": "¿Hondo?"}}}}, "i18n_unknown",
     "es.attributes has unknown 'depth'"),
    ({"es": {"attributes": {"size": "¿Tamaño?"}}}, "i18n_shape", "must hold description"),
    ({"es": {"attributes": {"size": {"question": "¿Tamaño?"}}}}, "i18n_unknown",
     "unknown 'question'"),
    ({"es": {"attributes": {"size": {"values": {"huge": "Enorme"}}}}}, "i18n_unknown",
     "size.values has unknown 'huge'"),
    ({"es": {"attributes": {"size": {"values": ["Pequeño"]}}}}, "i18n_shape",
     "must map list keys"),
    ({"es": {"attributes": {"wet": {"values": {True: "Sí"}}}}}, "i18n_unknown",
     'quote the keys "yes" and "no"'),
    ({"es": {"attributes": {"note": {"values": {"a": "b"}}}}}, "i18n_unknown",
     "note.values has unknown 'a'"),  # not a list: it has no keys to name
])
def test_a_bad_block_is_refused_naming_what_is_wrong(raw: Any, code: str, says: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        normalize_translations("pothole", raw, DEFS)
    assert exc.value.code == code
    assert str(exc.value).startswith("pothole: ") and says in str(exc.value)


def test_the_language_asked_for_among_those_spoken() -> None:
    spoken = languages([ES, None])
    assert spoken == {"en", "es"}
    assert pick(["es"], spoken) == "es"
    assert pick(["es-US", "en"], spoken) == "es"
    assert pick(["es_MX"], spoken) == "es"
    assert pick(["fr-CA", "es"], spoken) == "es"
    assert pick(["fr"], spoken) == "en"
    assert pick([], spoken) == "en"
    assert pick(["es"], languages([None])) == "en"  # an English-only catalog


def test_questions_removed_in_english_lose_their_words() -> None:
    tr = normalize_translations("pothole", ES, DEFS)
    fewer = normalize_definitions([{"code": "size", "datatype": "singlevaluelist",
                                    "values": [{"key": "large", "name": "Large"}]}])
    kept = prune(tr, fewer)
    assert kept == {"es": {"name": "Bache", "description": "Un hoyo.",
                           "attributes": {"size": {"description": "¿Qué tamaño tiene?",
                                                   "values": {}}}}}
    assert normalize_translations("pothole", kept, fewer) == kept  # imports again
