"""Several nodes' spans of one agent merged into one timeline: the busiest state at every
instant, no second twice, against hand-made timelines and a second-by-second oracle."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from acd.slices import totals
from acd.span_merge import PRECEDENCE, merge

T0 = datetime(2026, 3, 7, 9, 0, tzinfo=UTC)


def at(s: int) -> datetime:
    return T0 + timedelta(seconds=s)


def test_one_node_is_passed_through_untouched() -> None:
    rows = [("100", "available", "", at(0), at(10), "main"),
            ("100", "available", "", at(10), at(20), "main"),  # not joined: as stored
            ("101", "paused", "lunch", at(5), None, "west")]
    assert merge(rows) == [r[:5] for r in rows]


def test_on_a_call_on_one_node_beats_idle_on_the_other() -> None:
    rows = [("107", "available", "", at(0), None, "west"),
            ("107", "available", "", at(0), at(30), "east"),
            ("107", "on_call", "", at(30), at(90), "east"),
            ("107", "wrapup", "", at(90), at(100), "east"),
            ("107", "available", "", at(100), None, "east")]
    assert merge(rows) == [("107", "available", "", at(0), at(30)),
                           ("107", "on_call", "", at(30), at(90)),
                           ("107", "wrapup", "", at(90), at(100)),
                           ("107", "available", "", at(100), None)]


def test_a_pause_carried_out_late_on_one_node_and_ringing_over_it() -> None:
    rows = [("107", "available", "", at(0), at(10), "east"),
            ("107", "paused", "lunch", at(10), at(70), "east"),
            ("107", "available", "", at(0), at(12), "west"),  # west pauses 2 s later
            ("107", "ringing", "", at(12), at(15), "west"),  # and rang first (a race)
            ("107", "paused", "break", at(15), at(72), "west")]
    assert merge(rows) == [("107", "available", "", at(0), at(10)),
                           ("107", "paused", "lunch", at(10), at(12)),
                           ("107", "ringing", "", at(12), at(15)),
                           # east's pause began first: its reason stands while both pause
                           ("107", "paused", "lunch", at(15), at(70)),
                           ("107", "paused", "break", at(70), at(72))]


def test_a_gap_on_every_node_stays_a_gap() -> None:
    rows = [("107", "available", "", at(0), at(10), "east"),
            ("107", "available", "", at(5), at(10), "west"),
            ("107", "paused", "", at(20), at(30), "west")]
    assert merge(rows) == [("107", "available", "", at(0), at(10)),
                           ("107", "paused", "", at(20), at(30))]


def _oracle(rows: list[tuple[str, str, str, datetime, datetime | None, str]], end: datetime
            ) -> dict[tuple[str, str, str], float]:
    """Second by second: each second of [T0, end) of each agent in the busiest state of its
    spans holding it (the earliest begun among equals), an open span running to ``end``."""
    order = [str(s) for s in PRECEDENCE]
    out: dict[tuple[str, str, str], float] = {}
    for agent in {r[0] for r in rows}:
        for k in range(int((end - T0).total_seconds())):
            t = at(k)
            holding = [r for r in rows if r[0] == agent and r[3] <= t < (r[4] or end)]
            if holding:
                _, st, reason, *_ = min(holding, key=lambda r: (order.index(r[1]), r[3], r[5]))
                out[(agent, st, reason)] = out.get((agent, st, reason), 0.0) + 1.0
    return out


def _node_timeline(rng: random.Random, agent: str, node: str, length: int
                   ) -> list[tuple[str, str, str, datetime, datetime | None, str]]:
    """One node's spans of ``agent``: back to back, with logged-out gaps, the last open."""
    rows: list[tuple[str, str, str, datetime, datetime | None, str]] = []
    t = rng.randrange(0, 20)
    while t < length:
        d = rng.randrange(1, 40)
        state = rng.choice([str(s) for s in PRECEDENCE])
        reason = rng.choice(["", "lunch", "break"]) if state == "paused" else ""
        rows.append((agent, state, reason, at(t), at(t + d), node))
        t += d + (rng.randrange(1, 30) if rng.random() < 0.15 else 0)
    a, st, r, t0, _, n = rows[-1]
    rows[-1] = (a, st, r, t0, None, n)
    return rows


def test_random_nodes_equal_the_second_by_second_oracle() -> None:
    rng = random.Random(17)
    for _ in range(40):
        rows = [r for agent in ("100", "101") for node in ("east", "west", "north")[
            :rng.randrange(1, 4)] for r in _node_timeline(rng, agent, node, 600)]
        end = at(700)
        merged = merge(rows)
        assert totals(merged, T0, end) == _oracle(rows, end)
        for agent in ("100", "101"):  # one timeline: no two pieces of an agent overlap
            pieces = sorted((p for p in merged if p[0] == agent), key=lambda p: p[3])
            for p, q in zip(pieces, pieces[1:], strict=False):
                assert p[4] is not None and p[4] <= q[3]
