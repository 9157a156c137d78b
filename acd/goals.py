"""Service goals per queue and per center, judged against a summary: met or missed (pure).

A goal is met when service level (at the goal's answer time, by the center's definition) is
at least its target, and the abandon rate and ASA at most theirs. With no call that counts,
``met`` is None (nothing to judge). The wallboard turns a tile amber when a goal is missed
and red when it is missed by a margin (``alarm_level``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from acd.definitions import Definitions
from acd.metrics import Summary, round4

if TYPE_CHECKING:
    from foundation.settings import Settings

OK, AMBER, RED = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Goals:
    """service_level and abandon_rate as 0-1 fractions; answer_s and asa_s in seconds."""

    service_level: float = 0.90
    answer_s: int = 30
    abandon_rate: float = 0.05
    asa_s: float = 30.0


def goals_for(settings: Settings, queue: str | None) -> Goals:
    """The goals of one queue (its own where set, else the center's); None: the center's."""
    center = settings.goals
    q = settings.queue(queue) if queue else None
    if q is None:
        return Goals(center.service_level, center.answer_s, center.abandon_rate, center.asa_s)
    own = q.goals
    return Goals(center.service_level if own.service_level is None else own.service_level,
                 q.sl_threshold_s,
                 center.abandon_rate if own.abandon_rate is None else own.abandon_rate,
                 center.asa_s if own.asa_s is None else own.asa_s)


def _values(s: Summary, d: Definitions, g: Goals) -> tuple[float | None, ...]:
    return (s.service_level(g.answer_s, d.service_level), s.abandon_rate(d.abandon_rate),
            s.asa_s)


def marks(s: Summary, d: Definitions, g: Goals) -> dict[str, dict[str, object]]:
    """The ``goals`` object: per goal its target, the figure, and met true/false (None: no
    call to judge)."""
    sl, abandon, asa = _values(s, d, g)
    return {
        "service_level": {"target": g.service_level, "answer_s": g.answer_s, "value": round4(sl),
                          "met": None if sl is None else sl >= g.service_level},
        "abandon_rate": {"target": g.abandon_rate, "value": round4(abandon),
                         "met": None if abandon is None else abandon <= g.abandon_rate},
        "asa_s": {"target": g.asa_s, "value": round4(asa),
                  "met": None if asa is None else asa <= g.asa_s},
    }


def alarm_level(s: Summary, d: Definitions, g: Goals, sl_red_points: float,
                red_over_goal: float) -> int:
    """OK, AMBER (a goal missed) or RED: service level more than sl_red_points (0-1) below its
    goal, or abandon rate or ASA above red_over_goal times theirs."""
    sl, abandon, asa = _values(s, d, g)
    level = OK
    if sl is not None and sl < g.service_level:
        level = max(level, RED if sl < g.service_level - sl_red_points else AMBER)
    for value, goal in ((abandon, g.abandon_rate), (asa, g.asa_s)):
        if value is not None and value > goal:
            level = max(level, RED if value > goal * red_over_goal else AMBER)
    return level
