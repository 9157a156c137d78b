"""Secrets and private data are not readable by other users of the machine: the rendered
Asterisk configs (SIP and AMI secrets), the SQLite file and its journal, the data directory."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from center.cli import cli
from foundation.db import Database
from foundation.settings import load_settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # what a fresh shell gives: files 0644 unless we say otherwise
    yield
    os.umask(previous)


def test_rendered_asterisk_configs_are_not_world_readable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "pjsip.conf").write_text("; an older world-readable render\n")
    (etc / "pjsip.conf").chmod(0o644)
    for key, value in {"DATA_DIR": tmp_path / "data", "ASTERISK_BINARY": "external",
                       "ASTERISK_ETC_DIR": etc, "ASTERISK_LOG_DIR": tmp_path / "log",
                       "ASTERISK_SOUNDS_DIR": tmp_path / "sounds"}.items():
        monkeypatch.setenv(f"CIVIC311_{key}", str(value))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    res = CliRunner().invoke(cli, ["asterisk", "provision"])
    assert res.exit_code == 0, res.output
    secrets = load_settings()
    assert f"password = {secrets.sip_secret}" in (etc / "pjsip.conf").read_text()
    assert f"secret = {secrets.ami_secret}" in (etc / "manager.conf").read_text()
    confs = sorted(etc.glob("*.conf"))
    assert len(confs) > 5
    assert {p.name: mode(p) for p in confs} == {p.name: 0o640 for p in confs}
    assert not list(etc.glob(".*.tmp"))  # no half-written copy left beside them
    assert mode(tmp_path / "data") == 0o700
    assert mode(tmp_path / "data" / "secrets.toml") == 0o600


def test_the_sqlite_file_and_the_data_dir_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = load_settings(data_dir=str(data))
    assert mode(data) == 0o700
    db = Database(settings.db_url)
    with db.session() as s:
        s.execute(text("CREATE TABLE t (x INTEGER)"))
        s.execute(text("INSERT INTO t VALUES (1)"))
    files = [data / "civic311.db", data / "civic311.db-wal", data / "civic311.db-shm"]
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    db.dispose()


def test_an_existing_install_is_narrowed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "civic311.db").touch(mode=0o644)
    settings = load_settings(data_dir=str(data))
    Database(settings.db_url).dispose()
    assert mode(data) == 0o700 and mode(data / "civic311.db") == 0o600
