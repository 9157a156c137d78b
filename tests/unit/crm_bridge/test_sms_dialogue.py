"""The SMS exchange's pure core: keywords as carriers define them, ticket numbers, the word
search over the catalog, answers by number or name, and the turns a resident reads."""

from __future__ import annotations

import pytest

from crm_bridge.sms import dialogue as d
from crm_bridge.sms.keywords import Keyword, clean, keyword, ticket_digits
from crm_bridge.tickets.checkdigit import ticket_number
from crm_bridge.tickets.errors import InvalidInput

SIZE = {"code": "size", "datatype": "singlevaluelist", "required": True, "variable": True,
        "description": "How big is the pothole?",
        "values": [{"key": "small", "name": "Smaller than a plate"},
                   {"key": "large", "name": "Larger than a tyre"}]}
MATERIALS = {"code": "materials", "datatype": "multivaluelist", "required": True,
             "variable": True, "description": "What was missed?",
             "values": [{"key": "trash", "name": "Trash"}, {"key": "recycling",
                                                            "name": "Recycling"}]}
COUNT = {"code": "count", "datatype": "number", "required": True, "variable": True,
         "description": "How many?", "values": []}
POTHOLE = d.Choice("pothole", "Pothole", "pothole, hole in road, street defect", (SIZE,))
TRASH = d.Choice("missed", "Missed Trash Collection", "garbage, trash", (MATERIALS,))
BULKY = d.Choice("bulky", "Bulky Item Pickup", "trash, furniture", ())
LIGHT = d.Choice("light", "Street Light Out", "lamp, dark street", ())
CATALOG = [POTHOLE, TRASH, BULKY, LIGHT]


@pytest.mark.parametrize(("body", "expected"), [
    ("STOP", Keyword.STOP), (" stop ", Keyword.STOP), ("Stop.", Keyword.STOP),
    ("unsubscribe", Keyword.STOP), ("QUIT", Keyword.STOP), ("end", Keyword.STOP),
    ("cancel", Keyword.STOP), ("stopall", Keyword.STOP), ("Stop texting me", None),
    ("start", Keyword.START), ("Yes", Keyword.START), ("UNSTOP", Keyword.START),
    ("help", Keyword.HELP), ("INFO", Keyword.HELP), ("ES", Keyword.SPANISH),
    ("Español", Keyword.SPANISH), ("ESPANOL", Keyword.SPANISH), ("english", Keyword.ENGLISH),
    ("report", Keyword.REPORT), ("skip", Keyword.SKIP), ("pothole", None), ("", None),
])
def test_keywords_are_the_whole_text(body: str, expected: Keyword | None) -> None:
    assert keyword(body) is expected


def test_twilio_advanced_opt_out_names_the_keyword() -> None:
    assert keyword("ARRET", "STOP") is Keyword.STOP and keyword("x", "start") is Keyword.START


def test_clean_makes_one_line_and_cuts() -> None:
    assert clean("a\tb\r\n\x07c  \u200bd") == "a b c d"
    assert len(clean("ñ" * 5000)) == 1600


def test_ticket_digits() -> None:
    n = ticket_number(42)
    assert ticket_digits(n) == n and ticket_digits(f"#{n}") == n
    assert ticket_digits(f"{n[:3]}-{n[3:6]} {n[6:]}") == n and ticket_digits(f"No. {n}") == n
    assert ticket_digits("35") is None and ticket_digits("1 3") is None
    assert ticket_digits("pothole") is None and ticket_digits("١٢٣٤٥٦٧٨٩") is None


def test_search_finds_the_best_matches_only() -> None:
    assert d.search(CATALOG, "There is a huge pothole on my street") == [POTHOLE]
    assert d.search(CATALOG, "potholes") == [POTHOLE]
    assert d.search(CATALOG, "trash") == [TRASH, BULKY]
    assert d.search(CATALOG, "my cat is stuck") == []


def test_answers_by_number_or_name_and_refused_otherwise() -> None:
    assert d.parse_answer(SIZE, "2") == "large"
    assert d.parse_answer(SIZE, "smaller than a plate") == "small"
    assert d.parse_answer(MATERIALS, "2, 1 2") == ["recycling", "trash"]
    assert d.parse_answer(COUNT, "3") == 3
    for bad_def, bad in ((SIZE, "3"), (SIZE, "1 2"), (SIZE, "huge"), (MATERIALS, "0"),
                         (COUNT, "many"), (SIZE, "")):
        with pytest.raises(InvalidInput):
            d.parse_answer(bad_def, bad)


def test_a_whole_exchange_in_turns() -> None:
    turn = d.begin(CATALOG, CATALOG, "", Keyword.REPORT, "", "en", "Civic City")
    assert turn.reply.startswith("Civic City 311: what is the problem?")
    assert "\n1 Pothole\n2 Missed Trash Collection\n" in turn.reply and turn.action is None
    assert turn.exchange is not None
    turn = d.answer(turn.exchange, CATALOG, CATALOG, "trash", None, "", "en", "Civic City")
    assert turn.reply == "Which one? Reply with its number:\n1 Missed Trash Collection\n" \
                         "2 Bulky Item Pickup"
    assert turn.exchange is not None
    turn = d.answer(turn.exchange, CATALOG, CATALOG, "1", None, "", "en", "Civic City")
    assert turn.reply.startswith("Missed Trash Collection. What was missed? Reply with one "
                                 "or more numbers")
    assert turn.exchange is not None
    again = d.answer(turn.exchange, CATALOG, CATALOG, "9", None, "", "en", "Civic City")
    assert again.reply.startswith("Sorry, that is not an answer") and again.exchange == \
        turn.exchange
    turn = d.answer(turn.exchange, CATALOG, CATALOG, "1 2", None, "", "en", "Civic City")
    assert turn.reply.startswith("Where is it?") and turn.exchange is not None
    skipped = d.answer(turn.exchange, CATALOG, CATALOG, "skip", Keyword.SKIP, "", "en", "C")
    assert skipped.reply.startswith("Where is it?") and skipped.action is None
    turn = d.answer(turn.exchange, CATALOG, CATALOG, "5 Oak Ave", None, "", "en", "Civic City")
    assert turn.action == d.Locate("5 Oak Ave") and turn.exchange is not None
    turn = d.placed(turn.exchange, None, None, None, None, "en")
    assert turn.reply.startswith('We could not find "5 Oak Ave"') and "or reply SKIP" in \
        turn.reply
    assert turn.exchange is not None
    turn = d.answer(turn.exchange, CATALOG, CATALOG, "SKIP", Keyword.SKIP, "", "en", "City")
    assert turn.action == d.Submit() and turn.exchange is not None
    assert (turn.exchange.service_code, turn.exchange.answers, turn.exchange.address) == (
        "missed", {"materials": ["trash", "recycling"]}, "5 Oak Ave")


def test_words_first_choose_the_type_and_a_photo_sent_early_is_kept() -> None:
    turn = d.begin(CATALOG, CATALOG, "big pothole here", None, "https://x/p.jpg", "es", "C")
    assert turn.reply.startswith("Pothole. How big is the pothole? Responda con el número")
    assert turn.exchange is not None and turn.exchange.description == "big pothole here"
    turn = d.answer(turn.exchange, CATALOG, CATALOG, "1", None, "", "es", "C")
    assert turn.exchange is not None
    turn = d.answer(turn.exchange, CATALOG, CATALOG, "1 Main St", None, "", "es", "C")
    assert turn.exchange is not None
    turn = d.placed(turn.exchange, "1 Main St", 1.0, 2.0, "A1", "es")
    assert turn.action == d.Submit() and turn.reply == "Encontrada: 1 Main St."
    assert turn.exchange is not None and turn.exchange.media_url == "https://x/p.jpg"


def test_the_state_survives_json_and_garbage_starts_again() -> None:
    ex = d.Exchange(step=d.Step.PHOTO, offered=("a",), service_code="pothole",
                    answers={"size": "small"}, address="1 Main St", lat=1.5, long=2.5)
    assert d.Exchange.from_json(ex.to_json()) == ex
    for junk in ({}, {"step": "nowhere"}, {"step": "photo", "bogus": 1}, [], "x", None):
        assert d.Exchange.from_json(junk) is None
