"""Virtual hold rules: the confirmation sub-menu, the place in line, retries, the way back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ivr.callback import rules as cb

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_confirming_the_caller_id_with_1() -> None:
    assert cb.confirm_step(cb.Offer("+12125550001"), "1") == cb.Confirmed("+12125550001")


def test_another_number_is_read_back_and_must_be_confirmed() -> None:
    turn = cb.confirm_step(cb.Offer("+12125550001"), "7185550199#")
    assert turn == cb.Ask(cb.Offer("7185550199", 1))
    assert isinstance(turn, cb.Ask)
    assert cb.confirm_step(turn.offer, "1") == cb.Confirmed("7185550199")


@pytest.mark.parametrize("keys", ["", "5", "12#", "9999999999999999#", "*"])
def test_silence_and_garbage_ask_again_then_give_up(keys: str) -> None:
    offer = cb.Offer("+12125550001")
    turns = []
    for _ in range(cb.CONFIRM_TRIES):
        turn = cb.confirm_step(offer, keys)
        turns.append(turn)
        if not isinstance(turn, cb.Ask):
            break
        assert turn.offer.number == "+12125550001"  # the number on offer is kept
        offer = turn.offer
    assert isinstance(turns[-1], cb.GiveUp)
    assert len(turns) == cb.CONFIRM_TRIES


def test_typed_garbage_is_said_to_be_bad_silence_is_not() -> None:
    bad = cb.confirm_step(cb.Offer("2125550001"), "12#")
    quiet = cb.confirm_step(cb.Offer("2125550001"), "")
    assert isinstance(bad, cb.Ask) and bad.bad
    assert isinstance(quiet, cb.Ask) and not quiet.bad


def test_no_caller_id_cannot_be_confirmed() -> None:
    turn = cb.confirm_step(cb.Offer(cb.dialable("anonymous")), "1")
    assert isinstance(turn, cb.Ask) and turn.bad


def test_numbers_are_reduced_to_digits_before_any_dial_string() -> None:
    assert cb.dialable("+1 (212) 555-0001") == "+12125550001"
    assert cb.dialable("212;evil\r\nAction: Originate") == "212"
    assert not cb.valid_number("123456")
    assert cb.valid_number("1234567") and cb.valid_number("+123456789012345")
    assert not cb.valid_number("+1234567890123456")


def test_place_in_line_is_behind_earlier_arrivals_only() -> None:
    waiting = [T0 - timedelta(minutes=5), T0 - timedelta(minutes=1), T0 + timedelta(seconds=3),
               T0 + timedelta(minutes=2)]
    assert cb.position_in_line(T0, waiting) == 3
    assert cb.position_in_line(T0, []) == 1
    assert cb.position_in_line(T0 - timedelta(hours=1), waiting) == 1


def test_retries_until_the_last_attempt_fails() -> None:
    assert cb.after_attempt(1, True, T0) == ("connected", None)
    assert cb.after_attempt(1, False, T0) == ("requested",
                                             T0 + timedelta(seconds=cb.RETRY_DELAY_S))
    assert cb.after_attempt(cb.MAX_ATTEMPTS, False, T0) == ("failed", None)


def test_the_way_back_is_the_way_the_call_came_in() -> None:
    assert cb.dial_string("trunk", "10.0.0.5:5060", "+12125550001") == \
        "PJSIP/trunk/sip:+12125550001@10.0.0.5:5060"
    assert cb.dial_string("resident", "192.0.2.1:5062", "2125550001") == "PJSIP/resident"
    assert cb.dial_string("trunk", "1.2.3.4:5060,x)", "1;2") == "PJSIP/trunk/sip:12@1.2.3.4:5060x"


def test_every_prompt_exists_in_both_languages() -> None:
    assert set(cb.TEXTS["en"]) == set(cb.TEXTS["es"])
    assert cb.text("fr", "offer") == cb.TEXTS["en"]["offer"]



def test_with_a_carrier_trunk_the_callback_goes_out_through_it_to_the_confirmed_number(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from foundation.settings import load_settings
    from ivr.callback.agi import way_back

    monkeypatch.delenv("CIVIC311_TRUNK", raising=False)
    trunk = {"host": "192.0.2.10", "auth": "ip", "caller_id": "(410) 555-0300"}
    with_trunk = load_settings(data_dir=str(tmp_path), trunk=trunk)
    # whatever endpoint the call came in on, the confirmed number goes out in E.164
    assert way_back(with_trunk, "trunk", "127.0.0.1:5062", "+12125550001") == \
        "PJSIP/+12125550001@carrier"
    assert way_back(with_trunk, "resident", "", "410 555 0142") == "PJSIP/+14105550142@carrier"
    # what the trunk's dial policy does not let out goes back the way the call came
    assert way_back(with_trunk, "resident", "", "+44 20 7946 0000") == "PJSIP/resident"
    assert way_back(with_trunk, "trunk", "10.0.0.5:5060", "19005550123") == \
        "PJSIP/trunk/sip:19005550123@10.0.0.5:5060"
    allowed = load_settings(data_dir=str(tmp_path), trunk={**trunk, "allow_international": True})
    assert way_back(allowed, "resident", "", "+44 20 7946 0000") == "PJSIP/+442079460000@carrier"
    # no trunk: the way the call came in
    assert way_back(load_settings(data_dir=str(tmp_path)), "trunk", "10.0.0.5:5060",
                    "+12125550001") == "PJSIP/trunk/sip:+12125550001@10.0.0.5:5060"
