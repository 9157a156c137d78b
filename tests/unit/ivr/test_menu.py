"""The menu file: validation names the bad field; edits are picked up by mtime."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from ivr import engine as e
from ivr.menu import DEFAULT_MENU, MenuError, MenuFile, parse_menu, with_knowledge

RAW = yaml.safe_load(DEFAULT_MENU.read_text())


def broken(**changes: object) -> dict:
    raw = yaml.safe_load(DEFAULT_MENU.read_text())
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = raw
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return raw


@pytest.mark.parametrize(("changes", "message"), [
    ({"agent_queue": "nowhere"}, "agent_queue: unknown queue 'nowhere'"),
    ({"timeout_s": 0}, "timeout_s"),
    ({"timezone": "Mars/Olympus"}, "timezone: unknown zone"),
    ({"hours__weekly__mon": "18:00-08:00"}, "hours.weekly.mon: closes before it opens"),
    ({"hours__weekly__funday": "08:00-09:00"}, "unknown day 'funday'"),
    ({"hours__holidays": ["2026-13-01"]}, "hours.holidays: not a date"),
    ({"prompts__es__main": None}, "prompts.es: missing main"),
    ({"prompts__en__ticket_agency": "{name}"}, "prompts.en.ticket_agency: bad placeholder"),
    ({"report__0__queue": "pothole-dept"}, "report[0].queue: unknown queue"),
    ({"faq__1__key": "1"}, "faq[1].key: 1 used twice"),
    ({"faq__0__answer": None}, "faq[0].answer: expected one text per language ['es']"),
    ({"faq__0__answer": {"en": "only English"}}, "faq[0].answer: missing text for es"),
    ({"languages": {"1": "en", "2": "fr"}}, "prompts.fr: missing"),
    ({"main_menu": {"1": "status", "2": "lunch"}}, "main_menu.2: unknown choice 'lunch'"),
    ({"main_menu": {"1": "agent", "0": "agent"}}, "main_menu.0: agent on two keys"),
    ({"after_hours_menu": {"x": "callback"}}, "after_hours_menu: keys must be single digits"),
])
def test_validation_names_the_bad_field(changes: dict, message: str) -> None:
    with pytest.raises(MenuError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_menu(broken(**changes), {"citywide", "sanitation", "transportation",
                                       "environment", "buildings", "noise"})


def test_menu_file_reloads_on_change_and_keeps_the_last_good_menu(tmp_path: Path) -> None:
    path = tmp_path / "menu.yaml"
    path.write_text(DEFAULT_MENU.read_text())
    menus = MenuFile(path)
    first = menus.get()
    assert menus.get() is first  # unchanged file: not re-read
    raw = yaml.safe_load(path.read_text())
    raw["prompts"]["en"]["welcome"] = "Welcome to the new city line."
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    os.utime(path, ns=(1, 10**18))
    assert menus.get().text("en", "welcome") == "Welcome to the new city line."
    path.write_text("languages: [oops")
    os.utime(path, ns=(1, 2 * 10**18))
    assert menus.get().text("en", "welcome") == "Welcome to the new city line."
    assert menus.error and "not YAML" in menus.error


def test_a_knowledge_base_faq_is_answered_from_the_catalog() -> None:
    menu = parse_menu(RAW)
    trash = next(c for c in menu.faq if c.key == "1")
    assert trash.service == "missed-collection" and set(trash.answer or {}) == {"es"}
    answered = with_knowledge(menu, {"missed-collection": "Put bins out after 4 PM. "})
    assert next(c for c in answered.faq if c.key == "1").answer == {
        "en": "Put bins out after 4 PM.", "es": trash.answer["es"]}  # type: ignore[index]
    now = e.Start(datetime(2026, 11, 30, 15, tzinfo=UTC), None)
    turn = e.step(answered, e.State(), now)
    for key in ("1", "2", "1"):  # English, FAQs, trash
        turn = e.step(answered, turn.state, e.Keys(key))
    assert turn.say[0].text == "Put bins out after 4 PM."
    # the catalog's Spanish FAQ, where it has one, wins over the menu's own
    spanish = with_knowledge(menu, {"missed-collection": "Put bins out after 4 PM."},
                             {"es": {"missed-collection": " Saque los botes después de las 4. "}})
    assert next(c for c in spanish.faq if c.key == "1").answer == {
        "en": "Put bins out after 4 PM.", "es": "Saque los botes después de las 4."}
    # no text in the catalog (not seeded, or emptied by an admin): the FAQ is not offered
    # rather than answered with silence; its key re-prompts like any invalid key
    bare = with_knowledge(menu, {})
    turn = e.step(bare, e.State(), now)
    turn = e.step(bare, e.step(bare, turn.state, e.Keys("1")).state, e.Keys("2"))
    said = " ".join(t.text for t in turn.say)
    assert "press 2" in said and "press 1" not in said.split("Common questions.")[-1]
    assert e.step(bare, turn.state, e.Keys("1")).state.node == "faq"  # re-prompted


def test_the_main_menu_keys_are_data() -> None:
    assert parse_menu(broken(main_menu=None)).main == parse_menu(RAW).main  # the default
    menu = parse_menu(broken(main_menu={"9": "agent", "1": "status"}))
    now = e.Start(datetime(2026, 11, 30, 15, tzinfo=UTC), None)
    turn = e.step(menu, e.step(menu, e.State(), now).state, e.Keys("1"))  # English
    assert e.step(menu, turn.state, e.Keys("0")).state.node == e.Node.MAIN  # re-prompted
    agent = e.step(menu, turn.state, e.Keys("9"))
    assert agent.action == e.Queue("citywide") and agent.state.option == "agent"
