"""The phone account page: an agent sees their own SIP account, an admin any agent's."""

from __future__ import annotations

import re
from typing import Any

from foundation.db import Database
from foundation.settings import Settings
from foundation.users import create_user
from tests import conftest as c


def field(page: str, name: str) -> str:
    m = re.search(rf'data-field="{name}">(?:<code>)?([^<]*)', page)
    assert m, f"no {name} on the page"
    return m.group(1)


def test_an_agent_sees_their_own_phone_account_and_no_one_elses(
        app: Any, users: dict[str, str], settings: Settings) -> None:
    client = app.test_client()
    assert client.get("/agent/phone").status_code == 302  # to the log-in page
    c.login(client, users["agent"])  # agent1 sits at extension 100
    r = client.get("/agent/phone")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert (field(page, "server"), field(page, "port"), field(page, "user"),
            field(page, "password")) == ("127.0.0.1", str(settings.sip_port), "agent100",
                                         settings.agent_sip_passwords["100"])
    assert field(page, "transport") == f"UDP ({settings.sip_port}), TCP ({settings.sip_port})"
    others = [pw for ext, pw in settings.agent_sip_passwords.items() if ext != "100"]
    assert not any(pw in page for pw in others)
    assert client.get("/agent/phone/101").status_code == 403
    client = app.test_client()
    c.login(client, users["supervisor"])
    assert client.get("/agent/phone").status_code == 403


def test_an_admin_sees_any_agents_account(app: Any, users: dict[str, str],
                                          settings: Settings) -> None:
    client = app.test_client()
    c.login(client, users["admin"])
    page = client.get("/agent/phone").get_data(as_text=True)
    assert [f"/agent/phone/{e}" for e in settings.agent_extensions] == re.findall(
        r'href="(/agent/phone/\d+)"', page)
    page = client.get("/agent/phone/103").get_data(as_text=True)
    assert field(page, "user") == "agent103"
    assert field(page, "password") == settings.agent_sip_passwords["103"]
    assert client.get("/agent/phone/999").status_code == 404


def test_an_agent_without_a_seat_is_told_so(app: Any, database: Database) -> None:
    with database.session() as s:
        create_user(s, "drifter", c.TEST_PASSWORD, "agent", agent_ext="555")
        create_user(s, "newcomer", c.TEST_PASSWORD, "agent")
    for name, words in (("drifter", "Extension 555 is not an agent seat"),
                        ("newcomer", "Your account has no phone extension")):
        client = app.test_client()
        c.login(client, name)
        page = client.get("/agent/phone").get_data(as_text=True)
        assert words in page and 'data-field="password"' not in page
