"""Fuzz on the real Asterisk: callers press random keys and hang up at random moments. No
IVR error is ever logged, every call through the menu is accounted for, and the FastAGI
server still serves a normal caller afterwards."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import select

from foundation.db import Database
from ivr.models import IvrCall
from telephony import sipp
from tests.integration.ivr.test_city_menu import CITY, city_menu, ivr_rows
from tests.support.dtmf import unique_dtmf_block
from tests.support.pbx import DaemonProc, Pbx

pytestmark = pytest.mark.asterisk
KEYS = "0123456789*#"


@pytest.fixture(autouse=True)
def distinct_key_presses(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sipp, "dtmf_block", unique_dtmf_block(tmp_path / "dtmf"))


def test_random_keys_and_hangups(clean_pbx: Pbx, daemon: DaemonProc,
                                 database: Database) -> None:
    rng = random.Random(4311)
    clean_pbx.add_agent("100", ["citywide", "sanitation", "noise"], ring_ms=200, talk_ms=800)
    with city_menu(clean_pbx, closed_today=False):
        callers = []
        for i in range(8):
            digits = "".join(rng.choice(KEYS + ",,") for _ in range(rng.randrange(1, 14)))
            digits = digits.strip(",") or "5"
            if i % 2:  # half of them pick a language first, to get deeper into the menu
                digits = rng.choice("12") + ",," + digits
            callers.append(clean_pbx.call(number=CITY, digits=digits,
                                          hold_ms=rng.randrange(1500, 11000),
                                          first_digit_ms=rng.randrange(200, 4000),
                                          caller_numbers=[f"+1212555{7000 + i}"]))
        for p in callers:
            # SIPp counts a BYE from Asterisk while it is still sending keys as a failure of
            # its script; what matters here is that every call ended
            p.wait(60)
        rows = ivr_rows(database, 8)
        assert all(r.ended_at is not None for r in rows.values())
        log = daemon.log.read_text()
        assert "Traceback" not in log and "failed for" not in log, log[-3000:]

        again = clean_pbx.call(number=CITY, digits="1,,2,,3", hold_ms=14000,
                               first_digit_ms=2500, caller_numbers=["+12125557999"])
        assert again.wait(60).failed == 0
        last = ivr_rows(database, 9)["+12125557999"]
        assert last.ivr_path.startswith("menu:start>lang:en>faq>faq:3")
    with database.session() as s:
        assert s.scalar(select(IvrCall).where(IvrCall.outcome.is_(None))) is None
