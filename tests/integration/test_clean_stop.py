"""Stopping ``civic311 up`` loses no call: Asterisk refuses new calls first, the calls up get
a grace period and the rest are cut, and the daemon records every end before it exits, so
the records equal queue_log with no second start (issue #14 item 6)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from foundation.db import Database
from foundation.settings import default_cache_dir
from telephony import runtime
from tests.support import ports
from tests.support.pbx import make_pbx, wait_until
from tests.support.records import differences
from tests.support.truth import truth

pytestmark = pytest.mark.asterisk

PORTS = {k.upper(): ports.port(f"stop_{k}") for k in (
    "sip_port", "ami_port", "agi_port", "agent_phone_base_port", "web_port")}
PORTS["RTP_START"], PORTS["RTP_END"] = ports.rtp_range(26000, 998)
GRACE_S = 8


def anonymous_status(port: int) -> object:
    try:
        return requests.get(f"http://127.0.0.1:{port}/status", timeout=2).json()
    except (requests.RequestException, ValueError):
        return None


def test_stopping_up_records_the_end_of_every_call(tmp_path: Path) -> None:
    pbx = make_pbx(tmp_path, default_cache_dir(), STOP_GRACE_S=str(GRACE_S),
                   **{k: str(v) for k, v in PORTS.items()})
    env = {**os.environ, **pbx.env}
    env.pop("DATABASE_URL", None)  # the embedded SQLite database of this data directory
    out = tmp_path / "up.log"
    with out.open("wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "center", "up"], env=env, stdout=fh,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)  # its children go with it on failure
    callers = []
    try:
        wait_until(lambda: anonymous_status(PORTS["WEB_PORT"]) == {"status": "ok"}, 90,
                   what="civic311 up")
        pbx.add_agent("100", ["citywide"], ring_ms=300, talk_ms=60000)
        # three callers who would stay a minute: one talks to the agent, two wait
        callers.append(pbx.call(calls=3, rate=5, hold_ms=60000))
        wait_until(lambda: pbx.queue_log_events().count("ENTERQUEUE") == 3
                   and "CONNECT" in pbx.queue_log_events(), 20, what="three calls up")
        # and one who hangs up by themself a few seconds from now, inside the grace period
        callers.append(pbx.call(calls=1, rate=1, hold_ms=7000, caller_numbers=["+12125559990"]))
        wait_until(lambda: pbx.queue_log_events().count("ENTERQUEUE") == 4, 20,
                   what="the fourth call to queue")
        proc.send_signal(signal.SIGTERM)
        wait_until(lambda: "stopping: no new calls" in out.read_text(), 20,
                   what="the stop to begin")
        late = pbx.call(calls=1, rate=1, hold_ms=2000, caller_numbers=["+12125559991"])
        assert late.wait(30).failed == 1, "a call placed while stopping was taken"
        assert proc.wait(90) == 0, out.read_text()[-3000:]
    finally:
        for c in callers:
            c.stop()
        pbx.stop_phones()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # any child the supervisor left behind
        runtime.stop(pbx.install)
    log = out.read_text()
    # what the stop did is said in the log: on a busy machine the grace's end can come late
    # enough that the callers' SIPp (30 s at most a call) has already hung up
    cut = re.search(r"stopping: (\d+ calls still up after \d+ s were cut|no call was cut)", log)
    assert cut is not None, log[-3000:]
    expected = truth(pbx.queue_log)
    assert len(expected) == 4  # the late caller never reached a queue
    assert sorted(str(c["outcome"]) for c in expected.values()) == [
        "abandoned", "abandoned", "abandoned", "answered"]
    db = Database(pbx.settings.db_url)
    try:
        assert differences(db, expected) == [], log[-3000:]
    finally:
        db.dispose()
