"""Headless Chromium reads the wallboard and the interval report of a day that missed its
goals (the 19-call day of issue 13, no Asterisk needed): the figures by the strict
definitions, the met / missed marks and the red alarm are what a supervisor sees."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from acd import live_store
from acd.models import CallRecord
from foundation.db import Database, utcnow
from foundation.users import create_user
from tests.browser.conftest import start_web, stop_web
from tests.conftest import TEST_PASSWORD, make_database

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
ANSWER_WAITS = (5, 8, 10, 15, 20, 22, 28, 30)


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Database]:
    for db in make_database("postgres", tmp_path):
        now = utcnow()
        rows = ([("answered", w) for w in ANSWER_WAITS] + [("refused", 0)] * 5
                + [("timeout", 600)] * 5 + [("abandoned", 45)])
        with db.session() as s:
            create_user(s, "sup1", TEST_PASSWORD, "supervisor")
            live_store.publish(s, {"queues": {}, "agents": []})
            for i, (outcome, wait) in enumerate(rows):
                answered = outcome == "answered"
                s.add(CallRecord(uniqueid=f"b{i}", queue="citywide",
                                 entered_at=now - timedelta(seconds=40 - i), outcome=outcome,
                                 wait_s=float(wait), talk_s=60.0 if answered else None,
                                 agent="100" if answered else None, hold_s=0.0, acw_s=0.0,
                                 source="ami"))
        yield db


def test_wallboard_marks_the_missed_goals(seeded: Database, tmp_path: Path,
                                          chromium: Any) -> None:
    proc, base = start_web(None, seeded, tmp_path / "web.log",
                           {"CIVIC311_DATA_DIR": str(tmp_path / "data")})
    try:
        page = chromium.new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "sup1")
        page.fill("input[name=password]", TEST_PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{base}/wallboard")
        tile = '[data-queue="citywide"]'
        page.wait_for_selector(f'{tile} [data-field="sl"]', timeout=10000)
        assert page.text_content(f'{tile} [data-field="offered"]') == "19"
        assert page.text_content(f'{tile} [data-field="sl"]') == "57.1%"  # 8 of 14 entered
        assert page.text_content(f'{tile} [data-field="abandon_rate"]') == "31.6%"  # 6 of 19
        assert page.text_content(f'{tile} [data-field="refused_rate"]') == "26.3%"
        assert page.text_content(f'{tile} [data-field="not_served"]') == "6"
        marks = page.eval_on_selector_all(f"{tile} [data-goal]",
                                          "els => els.map(e => e.textContent)")
        assert marks == ["missed · goal 90.0%", "missed · goal ≤ 5.0%", "met · goal ≤ 30 s"]
        assert page.get_attribute(tile, "data-alarm") == "red"
        assert page.get_attribute('[data-queue="noise"]', "data-alarm") == "ok"
        assert "Service level (entered queue)" in page.text_content("#definitions")
        page.close()
    finally:
        stop_web(proc)
