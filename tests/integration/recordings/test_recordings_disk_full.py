"""The recordings disk full (issue #14 item 7c): Asterisk cannot write more of a recording
than the space left, the calls go on and are recorded in full as calls, and the catalog marks
each recording that came out short as ``failed`` with the reason.

Here Asterisk's own writes hit the wall (``test_recordings_disk_really_full.py`` fills a
real filesystem under the catalog instead), so the disk is "full" at a file-size limit: the
Asterisk of this test runs with RLIMIT_FSIZE (SIGXFSZ ignored, as the limit's default
signal would kill it), so its writes past the limit fail in the kernel with EFBIG, the way
writes on a full disk fail with ENOSPC: MixMonitor takes the same error path. The limit is
well above what queue_log, the CDRs and AstDB write in the test, and far below a call's
recording (8 kHz 16-bit WAV: 16 kB a second).
"""

from __future__ import annotations

import resource
import signal
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from acd.daemon import RECONCILE_EVERY_S
from acd.models import CallRecord
from foundation.db import Database, utcnow
from foundation.settings import default_cache_dir
from recordings.catalog import Paths, catalog
from recordings.models import Recording
from telephony import runtime
from tests.support import ports
from tests.support.pbx import Pbx, make_pbx, running_daemon, wait_until
from tests.support.talking_phones import talking_caller

pytestmark = pytest.mark.asterisk

PORTS = {k.upper(): ports.port(f"full_{k}") for k in (
    "sip_port", "ami_port", "agi_port", "agent_phone_base_port")}
PORTS["RTP_START"], PORTS["RTP_END"] = ports.rtp_range(28000, 998)
ROOM_BYTES = 40_000  # about 2.5 s of a recording
TALK_MS = 6000


def _disk_nearly_full() -> None:  # in the Asterisk child, before exec
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (ROOM_BYTES, ROOM_BYTES))


@pytest.fixture
def full_pbx(tmp_path: Path) -> Iterator[Pbx]:
    pbx = make_pbx(tmp_path, default_cache_dir(), **{k: str(v) for k, v in PORTS.items()})
    out = (tmp_path / "asterisk.out").open("wb")
    pbx.proc = subprocess.Popen(runtime.foreground_command(pbx.install), stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=_disk_nearly_full)
    try:
        runtime.wait_fully_booted(pbx.install, timeout=60)
        yield pbx
    finally:
        pbx.stop_phones()
        pbx.stop()


def test_calls_go_on_and_the_catalog_says_which_recordings_failed(
        full_pbx: Pbx, sqlite_db: Database, tmp_path: Path) -> None:
    with running_daemon(full_pbx, sqlite_db.url, tmp_path / "daemon.log"):
        full_pbx.add_agent("100", ["citywide"], ring_ms=300, talk_ms=TALK_MS)
        full_pbx.add_agent("101", ["citywide"], ring_ms=300, talk_ms=TALK_MS)
        result = talking_caller(full_pbx.sip_target, hold_ms=30000, calls=2, rate=2).wait(60)
        assert (result.successful, result.failed) == (2, 0)  # the calls went on

        def answered() -> list[CallRecord]:
            with sqlite_db.session() as s:
                return list(s.scalars(select(CallRecord).where(
                    CallRecord.outcome == "answered", CallRecord.ended_at.is_not(None))))
        # the live stream or, had it missed an end, the daemon's reconciliation: this test
        # is about the recordings (tests/integration/acd/test_mixed_calls.py is the stream's)
        calls = wait_until(lambda: len(answered()) == 2 and answered(), RECONCILE_EVERY_S + 30,
                           what="both calls recorded")
    assert all(c.talk_s and c.talk_s >= TALK_MS / 1000 - 1 for c in calls)
    spool = Paths(tmp_path / "data", full_pbx.install.spool_dir)
    for c in calls:  # Asterisk wrote what the disk had room for, and not a byte more
        assert (spool.incoming / f"{c.uniqueid}.wav").stat().st_size <= ROOM_BYTES
    with sqlite_db.session() as s:
        counts = catalog(s, spool, full_pbx.settings.queue_names(),
                         utcnow() + timedelta(seconds=10))
    assert counts == {"failed": 2}
    with sqlite_db.session() as s:
        recs = list(s.scalars(select(Recording)))
    assert {r.uniqueid for r in recs} == {c.uniqueid for c in calls}
    for r in recs:
        assert r.status == "failed" and "shorter than the talk time" in r.detail, r.detail
