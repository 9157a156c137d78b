"""Headless Chromium watches the wallboard while real SIPp calls join, are answered and
are abandoned on the real Asterisk: each change shows, in the order it happened (how fast
is bench/'s business, not this test's)."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from acd.models import CallRecord
from foundation.db import Database
from tests.conftest import TEST_PASSWORD
from tests.support.pbx import DaemonProc, Pbx, running_daemon, wait_until

pytestmark = [pytest.mark.asterisk, pytest.mark.postgres]

# Records what the citywide tile shows, with the browser's clock, on every re-render.
OBSERVE = """
window.seen = [];
const read = () => {
  const t = document.querySelector('[data-queue="citywide"]');
  if (!t) return;
  const v = f => Number(t.querySelector(`[data-field="${f}"]`).textContent);
  window.seen.push({t: Date.now(), waiting: v('waiting'), on_call: v('on_call'),
                    abandoned: v('abandoned'), answered: v('answered'),
                    alarm: t.dataset.alarm});
};
new MutationObserver(read).observe(document.getElementById('tiles'), {childList: true});
read();
"""


def first_seen(seen: list[dict[str, Any]], after: datetime, **want: int) -> int | None:
    """Index of the first render from ``after`` on that shows ``want`` (None if never)."""
    t0 = after.timestamp() * 1000
    for i, s in enumerate(seen):
        if s["t"] >= t0 - 50 and all(s[k] == v for k, v in want.items()):
            return i
    return None


def shown(page: Any, **want: int) -> bool:
    """The wallboard has rendered ``want`` at least once since OBSERVE started."""
    return any(all(s[k] == v for k, v in want.items()) for s in page.evaluate("window.seen"))


def test_wallboard_follows_real_calls(clean_pbx: Pbx, pg_db: Database, web: str,
                                      daemon_pg: DaemonProc, chromium: Any) -> None:
    pbx, db = clean_pbx, pg_db
    page = chromium.new_page()
    page.goto(f"{web}/login")
    page.fill("input[name=username]", "sup1")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{web}/wallboard")
    page.wait_for_selector('[data-queue="citywide"]', timeout=10000)

    pbx.add_agent("100", ["citywide"], ring_ms=300, talk_ms=9000)
    page.wait_for_selector('#agents tr[data-agent="100"]', timeout=5000)
    assert page.text_content('[data-queue="citywide"] [data-field="available"]') == "1"
    page.evaluate(OBSERVE)

    first = pbx.call(calls=1, hold_ms=20000, number="queue-citywide",
                     caller_numbers=["+12125550111"])
    answered = wait_until(lambda: _record(db, answered=True), 10, what="the first call answered")
    wait_until(lambda: shown(page, on_call=1), 10, what="the answer on the wallboard")
    second = pbx.call(calls=1, hold_ms=6000, number="queue-citywide",
                      caller_numbers=["+12125550112"])
    waiting = wait_until(lambda: _record(db, caller="+12125550112"), 10, what="the second call")
    abandoned = wait_until(lambda: _record(db, caller="+12125550112", outcome="abandoned"), 15,
                           what="the second call abandoned")
    wait_until(lambda: shown(page, waiting=0, abandoned=1), 10,
               what="the abandon on the wallboard")
    first.stop()
    second.stop()
    seen = page.evaluate("window.seen")

    on_call = first_seen(seen, answered.answered_at, on_call=1)
    joined = first_seen(seen, waiting.entered_at, waiting=1)
    gone = first_seen(seen, abandoned.ended_at, waiting=0, abandoned=1)
    assert on_call is not None and joined is not None and gone is not None, seen
    assert on_call < joined < gone, (on_call, joined, gone, seen)  # in the order it happened
    assert abandoned.wait_s >= 5  # a real abandon, not a short one
    # the thresholds: fine while the only finished call is on time; red once half the
    # calls (1 of 2) are abandoned (service level and abandon rate both past red)
    assert [x["alarm"] for x in seen if x["on_call"] == 1 and x["waiting"] == 0][0] == "ok"
    assert page.get_attribute('[data-queue="citywide"]', "data-alarm") == "red"
    page.close()


def _record(db: Database, answered: bool = False, caller: str | None = None,
            outcome: str | None = None) -> CallRecord | None:
    with db.session() as s:
        stmt = select(CallRecord)
        if answered:
            stmt = stmt.where(CallRecord.answered_at.is_not(None))
        if caller:
            stmt = stmt.where(CallRecord.caller_number == caller)
        if outcome:
            stmt = stmt.where(CallRecord.outcome == outcome)
        return s.scalars(stmt.limit(1)).first()


def test_many_supervisors_get_every_change(clean_pbx: Pbx, pg_db: Database, web: str,
                                           daemon_pg: DaemonProc) -> None:
    """Forty streams at once: one change reaches every one of them."""
    session = requests.Session()
    form = session.get(f"{web}/login").text
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    session.post(f"{web}/login", data={"username": "sup1", "password": TEST_PASSWORD,
                                       "csrf_token": token})
    cookies = session.cookies.get_dict()
    got: dict[int, list[tuple[float, dict[str, Any]]]] = {}
    ready = threading.Barrier(41)

    def watch(i: int) -> None:
        got[i] = []
        with requests.get(f"{web}/wallboard/stream", cookies=cookies, stream=True,
                          timeout=20) as r:
            first = True
            for line in r.iter_lines(decode_unicode=True):
                if line.startswith("data: "):
                    got[i].append((time.time(), json.loads(line[6:])["board"]))
                    if first:
                        first = False
                        ready.wait(10)
                    elif len(got[i]) >= 2:
                        return

    threads = [threading.Thread(target=watch, args=(i,), daemon=True) for i in range(40)]
    for t in threads:
        t.start()
    ready.wait(20)
    changed_at = time.time()
    clean_pbx.rx("queue add member PJSIP/agent105 to noise penalty 0 as 105")
    for t in threads:
        t.join(10)
    assert len(got) == 40
    for i, events in got.items():
        assert len(events) == 2, f"stream {i} got {len(events)} events"
        at, board = events[1]
        assert at >= changed_at  # the change, not an earlier render
        assert any(a["agent"] == "105" for a in board["agents"])


@pytest.fixture
def daemon_pg(clean_pbx: Pbx, pg_db: Database, tmp_path: Path) -> Any:
    with running_daemon(clean_pbx, pg_db.url, tmp_path / "daemon.log") as proc:
        yield proc
