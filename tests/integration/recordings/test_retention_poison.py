"""Retention never stops on one file: among expired recordings, one whose file cannot be
removed (a directory stands where the file was) and one whose stored path leads outside the
data directory; the others are removed, those two are marked deleted (never served again) with
the reason, and retried on the next run. Rows are committed as deleted before any file goes, so
a run cut between the two leaves rows the next run finishes (reconciled)."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from center.cli import cli
from foundation.db import Database, utcnow
from recordings.models import Recording, RecordingStatus
from tests.support.recording_files import make_recording


def _rows(db: Database) -> dict[str, Recording]:
    with db.session() as s:
        return {r.uniqueid: r for r in s.scalars(select(Recording))}


def test_one_undeletable_file_among_good_ones(database: Database, tmp_path: Path) -> None:
    data = tmp_path / "data"
    old = utcnow() - timedelta(days=400)  # past the default 365 days
    for uid in ("2.1", "2.2", "2.3", "2.4"):
        make_recording(database, data, uid, old)
    make_recording(database, data, "2.5", utcnow() - timedelta(days=1))  # kept
    rows = _rows(database)
    first = data / str(rows["2.1"].path)
    stuck = data / str(rows["2.2"].path)
    stuck.unlink()
    stuck.mkdir()  # unlink() refuses a directory: the file "cannot be removed"
    (stuck / "keep").write_text("x")
    outside = tmp_path / "not-a-recording.wav"
    outside.write_text("keep me")
    with database.session() as s:
        s.scalars(select(Recording).where(Recording.uniqueid == "2.3")).one().path = \
            "../not-a-recording.wav"
    crashed = data / str(rows["2.4"].path)  # a run that died after its commit
    with database.session() as s:
        r = s.scalars(select(Recording).where(Recording.uniqueid == "2.4")).one()
        r.status, r.deleted_at, r.detail = RecordingStatus.DELETED, old, "deleted by retention"

    base = ["--database-url", database.url, "--data-dir", str(data)]
    out = CliRunner().invoke(cli, [*base, "recordings", "retention"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert sorted(result["deleted"]) == ["2.1", "2.2", "2.3"]
    assert sorted(result["files_left"]) == ["2.2", "2.3"]
    rows = _rows(database)
    assert rows["2.1"].path is None and not first.exists()
    assert rows["2.1"].path is None and rows["2.1"].status == "deleted"
    assert rows["2.4"].path is None and not crashed.exists()  # reconciled
    assert rows["2.2"].status == "deleted" and rows["2.2"].deleted_at is not None
    assert "could not be removed yet" in rows["2.2"].detail and stuck.is_dir()
    assert "outside the data directory" in rows["2.3"].detail and outside.exists()
    assert rows["2.5"].status == "ok" and (data / str(rows["2.5"].path)).exists()

    (stuck / "keep").unlink()
    stuck.rmdir()  # whatever blocked it is gone: the next run finishes the job
    out = CliRunner().invoke(cli, [*base, "recordings", "retention"])
    assert json.loads(out.output) == {"deleted": [], "files_left": ["2.3"]}
    rows = _rows(database)
    assert rows["2.2"].path is None and rows["2.2"].detail == \
        "deleted by retention (365 days for queue citywide)"


def test_catalog_goes_on_past_a_file_it_cannot_read(database: Database, tmp_path: Path) -> None:
    """A directory where Asterisk's file should be (it cannot be read as audio): that call's
    recording is ``failed`` with the reason, the calls after it are catalogued."""
    from recordings.catalog import Paths, catalog
    from tests.support.recording_files import call_record, write_wav

    paths = Paths(tmp_path / "data", tmp_path / "spool")
    paths.incoming.mkdir(parents=True)
    answered = utcnow() - timedelta(minutes=30)
    closed = (utcnow() - timedelta(minutes=5)).timestamp()
    uids = ("3.1", "3.2", "3.3")
    with database.session() as s:
        for n, uid in enumerate(uids):
            s.add(call_record(uid, "citywide", "100", answered + timedelta(seconds=n), 2.0))
    write_wav(paths.incoming / "3.1.wav", 2.0)
    (paths.incoming / "3.2.wav").mkdir()
    write_wav(paths.incoming / "3.3.wav", 2.0)
    for f in paths.incoming.iterdir():
        os.utime(f, (closed, closed))
    with database.session() as s:
        counts = catalog(s, paths, ["citywide"], utcnow())
    assert counts == {"ok": 2, "failed": 1}
    rows = _rows(database)
    assert rows["3.1"].status == rows["3.3"].status == "ok"
    assert rows["3.2"].status == "failed" and "could not be catalogued" in rows["3.2"].detail
    assert "IsADirectoryError" in rows["3.2"].detail
    with database.session() as s:
        assert catalog(s, paths, ["citywide"], utcnow()) == {}  # recorded once, not retried
