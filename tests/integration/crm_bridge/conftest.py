"""CRM fixtures: a seeded catalog, a fixed config, and small helpers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from crm_bridge.config import CrmConfig, make_calendar
from crm_bridge.seed import seed_catalog
from foundation.db import Database

MONDAY_10AM = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York


@pytest.fixture
def catalog(database: Database) -> Database:
    """``database`` with the demo catalog loaded."""
    with database.session() as s:
        seed_catalog(s, None)
    return database


@pytest.fixture
def cfg() -> CrmConfig:
    return CrmConfig(calendar=make_calendar(around=2026), reopen_window_days=7,
                     public_base_url="http://311.civic.example", secret_key="test-secret")


@pytest.fixture
def api_key(catalog: Database) -> str:
    from crm_bridge.open311.apikeys import create_key

    with catalog.session() as s:
        return create_key(s, "test-client")


class Inbox:
    """A real SMTP server (aiosmtpd) on a free localhost port that keeps what it receives;
    ``on_message(n)`` runs with the count so far before each message is acknowledged."""

    def __init__(self, on_message: Any = None) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Any] = []
        self.stopped = False
        inbox = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                from email import message_from_bytes
                from email.policy import default

                msg = message_from_bytes(envelope.content, policy=default)
                inbox.messages.append(msg)
                if on_message is not None:
                    on_message(len(inbox.messages))
                return "250 OK"

        self.port = free_port()
        self.handler = Handler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        """Start serving (again, after ``stop``: a controller runs once, so a new one)."""
        from aiosmtpd.controller import Controller

        if self.stopped:
            self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.stopped = False
        self.controller.start()

    def stop(self) -> None:
        if not self.stopped:
            self.controller.stop()
            self.stopped = True

    def to(self, address: str) -> list[Any]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp(settings: Any) -> Iterator[Inbox]:
    inbox = Inbox()
    inbox.start()
    settings.smtp_host, settings.smtp_port = "127.0.0.1", inbox.port
    try:
        yield inbox
    finally:
        inbox.stop()
