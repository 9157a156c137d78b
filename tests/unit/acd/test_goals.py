"""Goals per center and per queue: settings, met / missed marks and the wallboard's alarm."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from acd.definitions import Definitions
from acd.goals import AMBER, OK, RED, Goals, alarm_level, goals_for, marks
from acd.metrics import summarize
from acd.states import AbandonBasis, ServiceLevelBasis
from foundation.settings import QueueDef, Settings
from tests.unit.acd.test_definitions import DAY_19, call

D = Definitions()


def test_the_19_call_day_misses_its_goals() -> None:
    s = summarize(DAY_19, (30, 60), 5)
    assert marks(s, D, Goals()) == {
        "service_level": {"target": 0.9, "answer_s": 30, "value": 0.5714, "met": False},
        "abandon_rate": {"target": 0.05, "value": 0.3158, "met": False},
        "asa_s": {"target": 30.0, "value": 17.25, "met": True},
    }
    # by the old definitions the same day looked nearly fine
    old = Definitions(ServiceLevelBasis.ANSWERED_ABANDONED, AbandonBasis.ABANDONED_ONLY)
    flattering = marks(s, old, Goals(service_level=0.8, abandon_rate=0.06))
    assert flattering["service_level"]["met"] and flattering["abandon_rate"]["met"]
    assert alarm_level(s, D, Goals(), 0.10, 2.0) == RED  # 57 % is far below 90 %


def test_a_goal_exactly_reached_is_met() -> None:
    # 9 answered within 30 s, 1 abandoned after 40 s: SL 90 %, abandons 10 %, ASA 30 s
    calls = [call("answered", 30) for _ in range(9)] + [call("abandoned", 40)]
    s = summarize(calls, (30,), 5)
    m = marks(s, D, Goals(0.9, 30, 0.10, 30))
    assert (m["service_level"]["met"], m["abandon_rate"]["met"], m["asa_s"]["met"]) == (
        True, True, True)
    assert alarm_level(s, D, Goals(0.9, 30, 0.10, 30), 0.10, 2.0) == OK
    assert alarm_level(s, D, Goals(0.91, 30, 0.10, 30), 0.10, 2.0) == AMBER  # just missed
    assert alarm_level(s, D, Goals(0.9, 30, 0.04, 30), 0.10, 2.0) == RED  # 10 % > 2 x 4 %
    assert alarm_level(s, D, Goals(0.9, 30, 0.10, 20), 0.10, 2.0) == AMBER  # ASA 30 > 20
    assert alarm_level(s, D, Goals(0.9, 30, 0.10, 14), 0.10, 2.0) == RED  # ASA 30 > 28


def test_no_calls_judges_nothing() -> None:
    m = marks(summarize([], (30,)), D, Goals())
    assert {k: v["met"] for k, v in m.items()} == {
        "service_level": None, "abandon_rate": None, "asa_s": None}
    assert alarm_level(summarize([], (30,)), D, Goals(), 0.1, 2.0) == OK


def test_queue_goals_override_the_center_s() -> None:
    settings = Settings(
        goals={"service_level": 0.8, "answer_s": 20, "abandon_rate": 0.08, "asa_s": 25},
        sl_thresholds_s=[30, 60],
        queues=[QueueDef(name="citywide", title="311"),
                QueueDef(name="noise", title="Noise", sl_threshold_s=45,
                         goals={"service_level": 0.7, "asa_s": 60})])
    assert goals_for(settings, None) == Goals(0.8, 20, 0.08, 25)
    assert goals_for(settings, "citywide") == Goals(0.8, 20, 0.08, 25)  # the center's T
    assert goals_for(settings, "noise") == Goals(0.7, 45, 0.08, 60)
    assert goals_for(settings, "atlantis") == goals_for(settings, None)
    # service level is computed at every goal's answer time
    assert settings.sl_thresholds_s == [30, 60, 20, 45]


def test_default_goals_are_90_in_30_5_percent_30_s() -> None:
    settings = Settings()
    assert goals_for(settings, "citywide") == Goals(0.90, 30, 0.05, 30.0)
    assert settings.sl_thresholds_s == [30, 60]
    assert (settings.service_level_definition, settings.abandon_rate_definition) == (
        "entered_queue", "not_served")


@pytest.mark.parametrize("bad", [
    {"service_level_definition": "answered_only_please"},
    {"abandon_rate_definition": "abandoned"},
    {"goals": {"service_level": 1.5}},
    {"goals": {"abandon_rate": -0.1}},
    {"goals": {"answer_s": 0}},
    {"queues": [{"name": "q", "title": "Q", "goals": {"asa_s": 0}}]},
])
def test_bad_definitions_and_goals_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(**bad)


def test_the_center_answer_time_flows_to_queues_without_their_own() -> None:
    fast = Settings(goals={"answer_s": 20})
    assert {q.sl_threshold_s for q in fast.queues} == {20}
    assert goals_for(fast, "noise").answer_s == 20 and fast.sl_thresholds_s == [30, 60, 20]
    # the defaults of the next center are untouched
    assert {q.sl_threshold_s for q in Settings().queues} == {30}
