"""The agent desktop's Transfer and Call out controls through the Flask test client: the
desktop shows Transfer on a queue call and Call out when idle; the forms post to acd's
transfer and outbound endpoints and come back to the desktop with the result; bad input
(unknown queue, a number the dial policy refuses, no CSRF token, the wrong role or another
agent's call) gets a clear 4xx and stores nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from acd.models import AgentCommand, CallRecord
from acd.outbound.models import OutboundCall
from foundation.db import Database, utcnow
from foundation.settings import Settings, load_settings
from tests.browser.conftest import free_port
from tests.conftest import csrf_token, login

TRUNK = {"host": "192.0.2.10", "auth": "ip", "caller_id": "(410) 555-0300"}


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A carrier trunk (calls out allowed) and an AMI port nobody listens on."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return load_settings(data_dir=str(tmp_path / "data"), trunk=TRUNK, ami_port=free_port())


def on_call(db: Database, agent: str = "100") -> None:
    now = utcnow()
    with db.session() as s:
        s.add(CallRecord(uniqueid="1700000001.1", caller_number="5550100", queue="citywide",
                         entered_at=now - timedelta(seconds=80),
                         answered_at=now - timedelta(seconds=60), agent=agent, wait_s=20.0))


def stored(db: Database) -> tuple[list[tuple[str, str, str, str]], int]:
    with db.session() as s:
        cmds = [(c.action, c.agent, c.target, c.status) for c in s.scalars(select(AgentCommand))]
        return cmds, s.scalar(select(func.count()).select_from(OutboundCall)) or 0


def agent_client(app: Any, users: dict[str, str]) -> tuple[Any, str]:
    c = app.test_client()
    login(c, users["agent"])  # extension 100
    return c, csrf_token(c, "/agent/desktop")


def section(page: str, name: str) -> str:
    m = re.search(rf'<section id="{name}"[^>]*>', page)
    assert m, f"no #{name} on the desktop"
    return m.group(0)


def test_the_desktop_shows_transfer_on_a_call_and_call_out_when_idle(
        app: Any, users: dict[str, str], database: Database) -> None:
    c, _ = agent_client(app, users)
    idle = c.get("/agent/desktop").get_data(as_text=True)
    assert "hidden" in section(idle, "transfer") and "hidden" not in section(idle, "outbound")
    assert "<label>Number to call" in idle and ">Call</button>" in idle
    on_call(database)
    busy = c.get("/agent/desktop").get_data(as_text=True)
    assert "hidden" not in section(busy, "transfer") and "hidden" in section(busy, "outbound")
    assert 'value="queue:citywide"' in busy and ">Transfer</button>" in busy
    assert 'value="agent:100"' not in busy  # not to oneself


def test_the_desktop_form_queues_a_transfer_and_shows_it(
        app: Any, users: dict[str, str], database: Database) -> None:
    on_call(database)
    c, token = agent_client(app, users)
    r = c.post("/agent/transfer", data={"kind": "blind", "to": "queue:citywide",
                                        "next": "/agent/desktop", "csrf_token": token})
    assert r.status_code == 303
    assert re.fullmatch(r"/agent/desktop\?command=\d+#transfer", r.headers["Location"])
    (cmd,), _ = stored(database)
    assert cmd == ("xfer_blind", "100", "queue-citywide", "pending")
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert 'data-status="pending"' in page and "Transfer queued" in page


def test_bad_transfers_are_refused_and_change_nothing(
        app: Any, users: dict[str, str], database: Database) -> None:
    on_call(database)
    c, token = agent_client(app, users)
    api, headers = "/api/v1/agents/100/transfer", {"X-CSRFToken": token}
    r = c.post(api, json={"kind": "blind", "to": "queue:nowhere"}, headers=headers)
    assert r.status_code == 400 and "unknown queue 'nowhere'" in r.get_json()["description"]
    r = c.post(api, json={"kind": "sideways", "to": "queue:citywide"}, headers=headers)
    assert r.status_code == 400 and "blind|attended" in r.get_json()["description"]
    # the form without JavaScript: back to the desktop, the reason shown there
    r = c.post("/agent/transfer", data={"kind": "blind", "to": "queue:nowhere",
                                        "next": "/agent/desktop", "csrf_token": token},
               follow_redirects=True)
    assert r.request.path == "/agent/desktop"
    assert "Transfer not queued: unknown queue &#39;nowhere&#39;" in r.get_data(as_text=True)
    assert c.post(api, json={"kind": "blind", "to": "queue:citywide"}).status_code == 400  # CSRF
    r = c.post("/agent/transfer", data={"kind": "blind", "to": "queue:citywide",
                                        "next": "/agent/desktop"})
    assert r.status_code == 400
    other = c.post("/api/v1/agents/101/transfer", json={"kind": "blind", "to": "queue:citywide"},
                   headers=headers)
    assert other.status_code == 403 and other.get_json()["error"] == "forbidden"
    manager = app.test_client()
    login(manager, users["manager"])
    r = manager.post(api, json={"kind": "blind", "to": "queue:citywide"},
                     headers={"X-CSRFToken": csrf_token(manager, "/wallboard")})
    assert r.status_code == 403
    assert stored(database) == ([], 0)


def test_bad_calls_out_are_refused_and_change_nothing(
        app: Any, users: dict[str, str], database: Database) -> None:
    c, token = agent_client(app, users)
    json_headers = {"X-CSRFToken": token, "Accept": "application/json"}
    r = c.post("/agent/outbound", json={"number": "1-900-555-0199"}, headers=json_headers)
    assert r.status_code == 400 and r.get_json()["error"] == "number_refused"
    r = c.post("/agent/outbound", json={"number": "not a number"}, headers=json_headers)
    assert r.status_code == 400 and r.get_json()["description"]
    r = c.post("/agent/outbound", json={"number": "4105550123", "queue": "nowhere"},
               headers=json_headers)
    assert r.status_code == 400 and r.get_json()["error"] == "bad_queue"
    r = c.post("/agent/outbound", data={"number": "1-900-555-0199", "next": "/agent/desktop",
                                        "csrf_token": token}, follow_redirects=True)
    assert r.request.path == "/agent/desktop" and "Call not placed:" in r.get_data(as_text=True)
    assert c.post("/agent/outbound", json={"number": "4105550123"}).status_code == 400  # CSRF
    sup = app.test_client()
    login(sup, users["supervisor"])
    r = sup.post("/agent/outbound", json={"number": "4105550123"},
                 headers={"X-CSRFToken": csrf_token(sup, "/wallboard"),
                          "Accept": "application/json"})
    assert r.status_code == 403
    assert stored(database) == ([], 0)


def test_a_call_out_asterisk_cannot_take_is_recorded_and_said(
        app: Any, users: dict[str, str], database: Database) -> None:
    """No AMI: the desktop's call is recorded as missed and the agent told why (502)."""
    c, token = agent_client(app, users)
    r = c.post("/agent/outbound", data={"number": "(410) 555-0123", "purpose": "agency",
                                        "next": "/agent/desktop", "csrf_token": token},
               follow_redirects=True)
    assert r.request.path == "/agent/desktop"
    assert "Call not placed: Asterisk did not take the call" in r.get_data(as_text=True)
    with database.session() as s:
        (call,) = s.scalars(select(OutboundCall))
        assert (call.agent, call.number, call.purpose, call.outcome) == (
            "100", "4105550123", "agency", "agent_missed")
