"""Random key sequences through the engine: never an error, never a gather in silence, and
every call ends (queue, callback, voicemail or goodbye) within a bounded number of turns."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ivr.engine import Found, Gather, Keys, Lookup, NotFound, Start, State, step
from ivr.menu import DEFAULT_MENU, load_menu

MENU = load_menu(DEFAULT_MENU)
KEYS = "0123456789*#"


def test_random_callers_never_hit_dead_air_or_errors() -> None:
    rng = random.Random(311)
    start = datetime(2026, 11, 23, 0, 0, tzinfo=ZoneInfo("America/New_York"))
    ended = 0
    for _ in range(3000):
        at = start + timedelta(minutes=rng.randrange(7 * 24 * 60))
        turn = step(MENU, State(), Start(at, rng.choice([None, "Road closed."])))
        for _turns in range(60):
            if isinstance(turn.action, Gather):
                assert turn.say, f"silent gather at {turn.state.ivr_path()}"
                n = rng.choice([0, 1, 1, 1, 2, 9, 12])
                digits = "".join(rng.choice(KEYS) for _ in range(n))
                turn = step(MENU, turn.state, Keys(digits))
            elif isinstance(turn.action, Lookup):
                result = rng.choice([
                    NotFound(invalid=True), NotFound(invalid=False),
                    Found(turn.action.digits, "in progress", rng.random() < 0.3, "DOT",
                          rng.choice([None, date(2026, 12, 1)]))])
                turn = step(MENU, turn.state, result)
            else:
                assert turn.state.node == "done"
                ended += 1
                break
        assert len(turn.state.ivr_path()) <= 240
    assert ended > 1000  # most random callers end within 60 turns (others keep browsing)
