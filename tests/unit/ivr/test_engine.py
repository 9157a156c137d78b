"""The pure IVR engine walked through every branch of the default city menu."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.engine import (
    Callback,
    Date,
    Digits,
    EngineError,
    Found,
    Gather,
    Hangup,
    Keys,
    Lookup,
    NotFound,
    Queue,
    Recording,
    Start,
    State,
    Text,
    Turn,
    Voicemail,
    outcome,
    step,
)
from ivr.hours import is_open, next_open
from ivr.menu import DEFAULT_MENU, load_menu

QUEUES = {"citywide", "sanitation", "transportation", "environment", "buildings", "noise"}
MENU = load_menu(DEFAULT_MENU, QUEUES)
NY = ZoneInfo("America/New_York")
OPEN = datetime(2026, 11, 23, 10, 0, tzinfo=NY)  # a Monday morning
NIGHT = datetime(2026, 11, 23, 23, 30, tzinfo=NY)


def walk(*keys: str, at: datetime = OPEN, notice: str | None = None) -> Turn:
    turn = step(MENU, State(), Start(at, notice))
    for k in keys:
        turn = step(MENU, turn.state, Keys(k))
    return turn


def words(turn: Turn) -> str:
    return " ".join(s.text for s in turn.say if isinstance(s, Text))


def test_a_call_starts_with_the_language_choice_in_both_languages() -> None:
    turn = walk()
    assert isinstance(turn.action, Gather) and turn.action.max_digits == 1
    assert [s.language for s in turn.say if isinstance(s, Text)] == ["en", "en", "es"]
    assert "For English, press 1." in words(turn) and "Para español, oprima 2." in words(turn)


def test_an_emergency_notice_is_said_first() -> None:
    turn = walk(notice="Water main break on Elm Street: boil water before drinking.")
    texts = [s.text for s in turn.say if isinstance(s, Text)]
    assert texts[1:3] == ["Important notice.",
                          "Water main break on Elm Street: boil water before drinking."]
    assert texts.index("For English, press 1.") > 2
    assert "notice" in turn.state.path


def test_a_recorded_notice_is_played_instead_of_its_transcript() -> None:
    turn = step(MENU, State(), Start(OPEN, "Heat advisory.", notice_recording=7))
    assert turn.say[2] == Recording(7, "Heat advisory.", "en")
    assert not any(isinstance(s, Text) and s.text == "Heat advisory." for s in turn.say)


def test_spanish_main_menu() -> None:
    turn = walk("2")
    assert turn.state.language == "es" and turn.state.node == "main"
    assert words(turn).startswith("Para consultar el estado")


def test_report_a_problem_reaches_the_agency_queue() -> None:
    for key, queue in [("1", "sanitation"), ("2", "transportation"), ("5", "noise")]:
        turn = walk("1", "3", key)
        assert turn.action == Queue(queue)
        assert turn.state.option == "report"
        assert turn.state.ivr_path() == f"menu:start>lang:en>report>report:{queue}"
        assert words(turn) == "Please hold for the next available agent."


def test_zero_reaches_an_agent() -> None:
    turn = walk("1", "0")
    assert turn.action == Queue("citywide") and turn.state.option == "agent"
    assert outcome(turn.state, reached_agent=True) == "agent"


def test_faq_answers_then_returns_to_the_main_menu() -> None:
    turn = walk("1", "2")
    assert "For parking rules, press 2." in words(turn)
    turn = step(MENU, turn.state, Keys("2"))
    assert words(turn).startswith("Alternate side parking is suspended")
    assert turn.state.node == "main" and isinstance(turn.action, Gather)
    assert outcome(turn.state, reached_agent=False) == "contained"


def test_timeouts_and_invalid_keys_reprompt_then_reach_an_agent() -> None:
    turn = walk("1", "9")
    assert words(turn).startswith("Sorry, I did not get that. To check the status")
    turn = step(MENU, turn.state, Keys(""))
    assert isinstance(turn.action, Gather)
    turn = step(MENU, turn.state, Keys("*"))
    assert turn.action == Queue("citywide")
    assert turn.state.ivr_path() == "menu:start>lang:en>main:invalid>main:timeout>main:invalid"


def test_silence_at_the_language_prompt_ends_at_an_agent_in_the_default_language() -> None:
    turn = walk("", "", "")
    assert turn.action == Queue("citywide") and turn.state.language == "en"


def test_status_lookup_reads_back_status_agency_and_date() -> None:
    turn = walk("1", "1")
    assert isinstance(turn.action, Gather) and turn.action.finish_on_key == "#"
    turn = step(MENU, turn.state, Keys("100000017#"))
    assert turn.action == Lookup("100000017")
    turn = step(MENU, turn.state, Found("100000017", "in progress", False, "Sanitation",
                                        date(2026, 12, 1)))
    assert turn.say[:5] == (Text("Service request number", "en"), Digits("100000017"),
                            Text("is in progress. It is handled by Sanitation.", "en"),
                            Text("The expected completion date is", "en"),
                            Date(date(2026, 12, 1), "en"))
    assert turn.state.ticket == "100000017" and turn.state.node == "main"
    assert turn.state.ivr_path().endswith("status>lookup:found")


def test_a_closed_ticket_says_closed_not_a_date() -> None:
    turn = walk("1", "1", "123#")
    turn = step(MENU, turn.state, Found("123", "closed", True, "DOT", None))
    assert Text("This request is closed.", "en") in turn.say
    assert not any(isinstance(s, Date) for s in turn.say)


def test_typos_and_unknown_numbers_get_a_clear_retry_then_an_agent() -> None:
    turn = walk("1", "1", "100000018#")
    turn = step(MENU, turn.state, NotFound(invalid=True))
    assert words(turn) == ("That number does not look right. Please check the digits and try "
                           "again. Please enter your service request number, then press the "
                           "pound key.")
    turn = step(MENU, step(MENU, turn.state, Keys("9#")).state, NotFound(invalid=False))
    assert words(turn).startswith("We could not find a request with that number.")
    assert isinstance(turn.action, Gather)
    turn = step(MENU, step(MENU, turn.state, Keys("9#")).state, NotFound(invalid=False))
    assert turn.action == Queue("citywide")


def test_after_hours_offers_callback_or_voicemail() -> None:
    turn = walk("1", at=NIGHT)
    assert words(turn).startswith("Our agents are available Monday to Friday")
    assert turn.state.option == "after_hours"
    cb = step(MENU, turn.state, Keys("1"))
    assert isinstance(cb.action, Callback) and outcome(cb.state, False) == "callback"
    vm = step(MENU, turn.state, Keys("2"))
    assert isinstance(vm.action, Voicemail) and outcome(vm.state, False) == "voicemail"
    bye = step(MENU, step(MENU, step(MENU, turn.state, Keys("")).state, Keys("")).state, Keys(""))
    assert bye.action == Hangup() and words(bye) == "Thank you for calling. Goodbye."


def test_business_hours_and_holidays_in_the_city_zone() -> None:
    assert is_open(MENU, OPEN)
    assert not is_open(MENU, NIGHT)
    assert is_open(MENU, datetime(2026, 11, 24, 2, 59, tzinfo=ZoneInfo("UTC")))  # 21:59 NY
    assert not is_open(MENU, datetime(2026, 11, 24, 3, 0, tzinfo=ZoneInfo("UTC")))
    assert not is_open(MENU, datetime(2026, 12, 25, 12, 0, tzinfo=NY))  # holiday
    assert not is_open(MENU, datetime(2026, 11, 29, 12, 0, tzinfo=NY))  # Sunday
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(MENU, datetime(2026, 11, 23, 12, 0))  # noqa: DTZ001


def test_the_next_opening_for_an_after_hours_callback() -> None:
    assert next_open(MENU, OPEN) == OPEN
    assert next_open(MENU, NIGHT) == datetime(2026, 11, 24, 7, 0, tzinfo=NY)  # Tuesday 7 AM
    # Saturday night -> Sunday closed -> Monday 7 AM
    assert next_open(MENU, datetime(2026, 11, 28, 18, 0, tzinfo=NY)) == datetime(
        2026, 11, 30, 7, 0, tzinfo=NY)
    # Thanksgiving (a holiday in the menu) -> Friday 7 AM
    assert next_open(MENU, datetime(2026, 11, 25, 23, 0, tzinfo=NY)) == datetime(
        2026, 11, 27, 7, 0, tzinfo=NY)


def test_inputs_out_of_place_are_adapter_bugs() -> None:
    with pytest.raises(EngineError):
        step(MENU, State(), Keys("1"))
    with pytest.raises(EngineError):
        step(MENU, walk().state, Found("1", "x", False, "y", None))
