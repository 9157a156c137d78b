"""Browser fixtures: headless Chromium (the system's) and a real ``civic311 web`` process."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from foundation.db import Database
from foundation.users import create_user
from tests.conftest import TEST_PASSWORD, make_database
from tests.support import processes
from tests.support.pbx import Pbx, wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Per module: Playwright's sync API keeps an event loop running in this thread while
    it is open, and every later ``asyncio.run`` in the session would fail."""
    from playwright.sync_api import sync_playwright

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Chromium is not installed (make system-deps installs it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def pg_db(tmp_path: Path) -> Iterator[Database]:
    """Several processes share this database: PostgreSQL, as in production."""
    yield from make_database("postgres", tmp_path)


def start_web(pbx: Pbx | None, db: Database, log: Path,
              extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """A real ``civic311 web``; without a ``pbx``, pass its data directory in ``extra_env``."""
    port = free_port()
    env = {**os.environ, **(pbx.env if pbx else {}), **(extra_env or {}), "DATABASE_URL": db.url,
           "CIVIC311_WEB_WORKERS": "2"}
    proc = subprocess.Popen([sys.executable, "-m", "center", "web", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"web server exited: {log.read_text()[-2000:]}")
        try:
            return requests.get(f"{base}/status", timeout=1).status_code in (200, 503)
        except (requests.ConnectionError, requests.Timeout):  # not up yet, or busy starting
            return False

    try:
        wait_until(up, 60, what="the web server")
    except BaseException:
        stop_web(proc)  # a server that never came up must not outlive its test
        raise
    return proc, base


def stop_web(proc: subprocess.Popen[bytes]) -> None:
    processes.stop(proc, 30)  # gunicorn: 5 s graceful stop, slower on a loaded machine


@pytest.fixture
def web(clean_pbx: Pbx, pg_db: Database, tmp_path: Path) -> Iterator[str]:
    """A real ``civic311 web`` (gunicorn) on a free port; yields its base URL."""
    with pg_db.session() as s:
        create_user(s, "sup1", TEST_PASSWORD, "supervisor")
    proc, base = start_web(clean_pbx, pg_db, tmp_path / "web.log")
    try:
        yield base
    finally:
        stop_web(proc)
