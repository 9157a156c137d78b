"""The recordings disk really full (issue #14 item 7c), on a real filesystem: a small tmpfs
mounted as the recordings data directory (where a year of recordings piles up; Asterisk's
spool only holds the calls of the last seconds) and filled to the last byte. Calls go on
through the real Asterisk and are recorded in full as calls; the catalog marks the
recording that does not fit ``failed`` with the reason (ENOSPC), leaves no half copy on the
full disk and keeps the file in the spool; once space is freed the next run catalogues it
and the next call's, so nothing is lost.

``test_recordings_disk_full.py`` fills Asterisk's own writes (a file-size limit); this one
fills the disk the catalog writes to. Mounting needs root (or CAP_SYS_ADMIN): without it
the test is skipped, saying so.
"""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from acd.daemon import RECONCILE_EVERY_S
from acd.models import CallRecord
from foundation.db import Database, utcnow
from recordings.catalog import Paths, catalog
from recordings.models import Recording
from tests.support.pbx import Pbx, running_daemon, wait_until
from tests.support.talking_phones import talking_caller

DISK_BYTES = 1024 * 1024  # room for several 4-second recordings (16 kB a second)
TALK_MS = 4000


def _mount(where: Path) -> None:
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES},mode=0700",
                        "tmpfs", str(where)], check=True, capture_output=True, text=True,
                       timeout=30)
    except FileNotFoundError:
        pytest.skip("no mount(8) on this machine: a real full filesystem cannot be made")
    except subprocess.CalledProcessError as exc:
        pytest.skip("mounting a tmpfs is not permitted here (needs root or CAP_SYS_ADMIN): "
                    f"{exc.stderr.strip()}")


def _unmount(where: Path) -> None:
    if subprocess.run(["umount", str(where)], capture_output=True, timeout=30).returncode:
        subprocess.run(["umount", "-l", str(where)], check=True, timeout=30)  # busy: detach


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs for the recordings data directory, unmounted whatever happens."""
    where = tmp_path / "recordings-disk"
    where.mkdir()
    _mount(where)
    try:
        yield where
    finally:
        _unmount(where)


def fill(disk: Path) -> Path:
    """Write a file until the disk refuses another byte (ENOSPC); returns it."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as f:  # unbuffered: the refusal comes at once
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    return filler


def answered(db: Database) -> list[CallRecord]:
    with db.session() as s:
        return list(s.scalars(select(CallRecord).where(
            CallRecord.outcome == "answered", CallRecord.ended_at.is_not(None))
            .order_by(CallRecord.ended_at)))


def recordings(db: Database) -> dict[str, Recording]:
    with db.session() as s:
        rows = list(s.scalars(select(Recording)))
        s.expunge_all()
    return {r.uniqueid: r for r in rows}


def run_catalog(db: Database, paths: Paths, pbx: Pbx) -> dict[str, int]:
    with db.session() as s:
        return dict(catalog(s, paths, pbx.settings.queue_names(),
                            utcnow() + timedelta(seconds=10)))


def one_call(pbx: Pbx, db: Database, count: int) -> CallRecord:
    """One resident talks to the agent; returns the call once it is in the records."""
    result = talking_caller(pbx.sip_target, hold_ms=30000).wait(60)
    assert (result.successful, result.failed) == (1, 0)  # the call went on
    # the live stream or, had it missed the end, the daemon's reconciliation: this test is
    # about the recordings (tests/integration/acd/test_mixed_calls.py is the stream's)
    calls = wait_until(lambda: len(answered(db)) == count and answered(db),
                       RECONCILE_EVERY_S + 30, what=f"{count} answered call(s) recorded")
    return calls[-1]


def test_a_full_recordings_disk_fails_only_what_does_not_fit_and_catches_up(
        clean_pbx: Pbx, database: Database, small_disk: Path, tmp_path: Path) -> None:
    paths = Paths(small_disk, clean_pbx.install.spool_dir)
    filler = fill(small_disk)
    with running_daemon(clean_pbx, database.url, tmp_path / "daemon.log"):
        clean_pbx.add_agent("100", ["citywide"], ring_ms=300, talk_ms=TALK_MS)
        first = one_call(clean_pbx, database, 1)
        assert first.talk_s and first.talk_s >= TALK_MS / 1000 - 1  # recorded as a call

        assert run_catalog(database, paths, clean_pbx) == {"failed": 1}
        rec = recordings(database)[first.uniqueid]
        assert rec.status == "failed" and rec.path is None
        assert "ENOSPC" in rec.detail and "No space left on device" in rec.detail, rec.detail
        waiting = paths.incoming / f"{first.uniqueid}.wav"
        assert waiting.stat().st_size > 16_000 * (TALK_MS / 1000 - 1)  # the audio is kept
        assert sorted(p.name for p in small_disk.rglob("*") if p.is_file()) == ["filler"]
        assert run_catalog(database, paths, clean_pbx) == {}  # still full: nothing changes

        filler.unlink()  # the city frees space
        second = one_call(clean_pbx, database, 2)
    assert run_catalog(database, paths, clean_pbx) == {"ok": 2}
    after = recordings(database)
    assert set(after) == {first.uniqueid, second.uniqueid}
    assert after[first.uniqueid].id == rec.id  # the same row, now catalogued
    for call in (first, second):
        r = after[call.uniqueid]
        assert (r.status, r.detail) == ("ok", "") and r.path
        assert r.duration_s and call.talk_s and r.duration_s >= call.talk_s - 2.0
        assert paths.absolute(r.path).stat().st_size == r.size_bytes
    assert not waiting.exists()  # moved from the spool onto the recordings disk
