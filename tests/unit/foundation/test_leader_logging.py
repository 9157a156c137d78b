"""A standby worker facing a database that is down says so once a minute, not every try."""

from __future__ import annotations

import logging
import socket

import pytest

from foundation import leader
from foundation.leader import PostgresLock


def closed_port() -> int:
    """A local port nothing listens on: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_database_is_logged_once_a_minute(
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(leader.time, "monotonic", lambda: clock[0])
    lock = PostgresLock(f"postgresql://postgres@127.0.0.1:{closed_port()}/none")
    with caplog.at_level(logging.INFO, logger="foundation.leader"):
        for _ in range(5):  # five tries within the minute
            assert lock.acquire() is False
            clock[0] += 1
        clock[0] += leader.UNREACHABLE_LOG_EVERY_S
        assert lock.acquire() is False
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2, warnings
    assert "(1 tries so far)" in warnings[0] and "(6 tries so far)" in warnings[1]
