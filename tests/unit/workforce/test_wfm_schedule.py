"""The schedule optimizer covers the requirement with the fewest paid hours."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from workforce.schedule import (
    Break,
    ShiftTemplate,
    TemplateError,
    every,
    optimize,
    templates_from_data,
)

TZ = ZoneInfo("America/New_York")
DAY = datetime(2024, 3, 5, tzinfo=TZ)  # a Tuesday


def grid(hours: float, start_hour: int = 0, minutes: int = 30) -> list[datetime]:
    return [DAY + timedelta(hours=start_hour, minutes=minutes * i)
            for i in range(int(hours * 60 / minutes))]


def test_flat_requirement_gets_exactly_enough_shifts():
    starts = grid(8, start_hour=8)
    eight = ShiftTemplate("8h", 480, (time(8),))
    s = optimize(starts, [3] * len(starts), 30, [eight], TZ)
    assert s.status == "Optimal" and s.paid_hours == 24.0
    assert [(x.start.hour, x.agents) for x in s.shifts] == [(8, 3)]
    assert s.gaps() == [0.0] * len(starts)


def test_breaks_are_covered_and_unpaid():
    starts = grid(9, start_hour=8)
    lunch = ShiftTemplate("lunch", 540, (time(8),), (Break(60, 180, 300),))
    s = optimize(starts, [2] * len(starts), 30, [lunch], TZ)
    assert min(s.gaps()) >= 0  # staggered or extra people cover the lunch hour
    assert sum(x.agents for x in s.shifts) == 3 and s.paid_hours == 24.0
    assert all(len(x.breaks) == 1 for x in s.shifts)


def test_fewest_paid_hours_mixes_short_and_long_shifts():
    starts = grid(8, start_hour=8)
    need = [2] * 8 + [4] * 4 + [2] * 4  # a two-hour peak from 12:00
    templates = [ShiftTemplate("8h", 480, (time(8),)),
                 ShiftTemplate("4h", 240, every(time(8), time(12), 60))]
    s = optimize(starts, need, 30, templates, TZ)
    assert s.paid_hours == 24.0  # two 8h + two 4h, not four 8h
    assert min(s.gaps()) == 0


def test_uncoverable_intervals_are_reported_understaffed():
    starts = grid(10, start_hour=8)
    s = optimize(starts, [1] * len(starts), 30, [ShiftTemplate("8h", 480, (time(8),))], TZ)
    assert s.gaps()[-4:] == [-1.0] * 4 and s.notes
    assert s.paid_hours == 8.0


def test_max_agents_and_overnight_shifts():
    starts = grid(24)
    night = ShiftTemplate("night", 480, (time(22),), max_agents=1)
    day = ShiftTemplate("day", 480, (time(6), time(14)))
    s = optimize(starts, [2] * len(starts), 30, [night, day], TZ)
    nights = [x for x in s.shifts if x.template == "night"]
    assert all(x.agents <= 1 for x in nights)
    assert s.gaps()[:12] == [-1.0] * 12  # 00:00-06:00 only the capped night shift


def test_templates_from_data():
    data = {"shifts": [{"name": "early", "length_minutes": 510,
                        "starts": {"from": "06:00", "to": "08:00", "every": 60},
                        "breaks": [{"minutes": 30, "earliest": 180, "latest": 300}],
                        "days": ["mon", "Tuesday"], "max_agents": 4},
                       {"length_minutes": 240, "starts": ["17:00"]}]}
    early, evening = templates_from_data(data)
    assert early.starts == (time(6), time(7), time(8)) and early.weekdays == (0, 1)
    assert early.paid_hours == 8.0 and early.max_agents == 4
    assert evening.name == "shift2" and evening.weekdays == tuple(range(7))
    for bad in ({}, {"shifts": [{"starts": ["x"]}]}, {"shifts": [
            {"length_minutes": 60, "starts": ["08:00"],
             "breaks": [{"minutes": 30, "earliest": 50, "latest": 50}]}]}):
        with pytest.raises(TemplateError):
            templates_from_data(bad)
