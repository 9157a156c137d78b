"""The agent desktop's Transfer and Call out controls in headless Chromium against a real
``civic311 web`` (gunicorn) and PostgreSQL, without Asterisk: on a queue call (the call
record the daemon writes at AgentConnect) the agent asks for an attended transfer to
another agent; the command is stored as the daemon reads it, and when the daemon reports
it failed the desktop says so in place, also after the call has ended and the page was
reloaded. Call out appears; a premium number
is refused with the dial policy's reason and stores nothing; a local number is recorded,
and with no AMI to take it the desktop says the call was not placed. With
CIVIC311_SCREENSHOTS=DIR the desktop is saved as DIR/desktop-transfer.png."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from acd import live_store
from acd.models import AgentCommand, CallRecord
from acd.outbound.models import OutboundCall
from foundation.db import Database, utcnow
from foundation.users import create_user
from tests.browser.conftest import free_port, start_web, stop_web
from tests.conftest import TEST_PASSWORD
from tests.support.pbx import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

TRUNK = {"host": "192.0.2.10", "auth": "ip", "caller_id": "(410) 555-0300"}


@pytest.fixture
def base(pg_db: Database, tmp_path: Path) -> Iterator[str]:
    with pg_db.session() as s:
        create_user(s, "agent100", TEST_PASSWORD, "agent", agent_ext="100")
        now = utcnow()
        s.add(CallRecord(uniqueid="1700000001.1", caller_number="+17185550142",
                         queue="citywide", entered_at=now - timedelta(seconds=80),
                         answered_at=now - timedelta(seconds=60), agent="100", wait_s=20.0))
    env = {"CIVIC311_DATA_DIR": str(tmp_path / "data"), "CIVIC311_TRUNK": json.dumps(TRUNK),
           "CIVIC311_AMI_PORT": str(free_port())}  # nobody listens: no Asterisk
    proc, url = start_web(None, pg_db, tmp_path / "web.log", env)
    try:
        yield url
    finally:
        stop_web(proc)


def test_transfer_and_call_out_from_the_desktop(base: str, pg_db: Database,
                                                chromium: Any) -> None:
    page = chromium.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "agent100")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{base}/agent/desktop")

    transfer = page.get_by_role("region", name="Transfer the caller")
    transfer.wait_for(state="visible")
    assert page.get_by_role("region", name="Call out").is_hidden()
    transfer.get_by_label("Attended: talk to them first").check()
    transfer.get_by_label("Transfer to", exact=True).select_option("agent:101")
    transfer.get_by_role("button", name="Transfer").click()
    page.wait_for_selector("#transfer-status[data-status=pending]:has-text('Transfer queued')")
    assert page.url.endswith("/agent/desktop")  # the agent never left the desktop

    with pg_db.session() as s:
        (cmd,) = s.scalars(select(AgentCommand))
        assert (cmd.action, cmd.agent, cmd.target, cmd.status, cmd.requested_by) == (
            "xfer_attended", "100", "101", "pending", "agent100")
        live_store.finish_command(s, cmd.id, False, "agent 101 did not answer")  # the daemon
    page.wait_for_selector("#transfer-status[data-status=failed]"
                           ":has-text('Transfer failed: agent 101 did not answer')")
    if shots := os.environ.get("CIVIC311_SCREENSHOTS"):
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shots) / "desktop-transfer.png"), full_page=False)

    with pg_db.session() as s:  # the caller hangs up: the daemon closes the record
        s.execute(update(CallRecord).values(outcome="answered", ended_at=utcnow()))
    outbound = page.get_by_role("region", name="Call out")
    outbound.wait_for(state="visible", timeout=10_000)  # the pop polls every 2 s
    assert transfer.is_hidden()
    page.reload()  # as the desktop does after a call: the transfer's result is still shown
    page.wait_for_selector("#transfer-status[data-status=failed]"
                           ":has-text('Transfer failed: agent 101 did not answer')")
    outbound.wait_for(state="visible")

    outbound.get_by_label("Number to call").fill("1-900-555-0199")
    outbound.get_by_role("button", name="Call").click()
    page.wait_for_selector("#outbound-status[data-status=failed]:has-text('Call not placed')")
    assert "premium" in page.inner_text("#outbound-status").lower()
    with pg_db.session() as s:
        assert s.scalars(select(OutboundCall)).all() == []

    outbound.get_by_label("Number to call").fill("(410) 555-0123")
    outbound.get_by_label("Purpose").select_option("agency")
    outbound.get_by_role("button", name="Call").click()
    page.wait_for_selector("#outbound-status[data-status=failed]"
                           ":has-text('Call not placed: Asterisk did not take the call')",
                           timeout=20_000)

    def recorded() -> OutboundCall | None:
        with pg_db.session() as s:
            return s.scalar(select(OutboundCall))

    call = wait_until(recorded, 5, what="the outbound call record")
    assert (call.agent, call.requested_by, call.number, call.purpose, call.outcome) == (
        "100", "agent100", "4105550123", "agency", "agent_missed")
    assert page.url.endswith("/agent/desktop")
