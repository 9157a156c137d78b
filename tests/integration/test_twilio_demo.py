"""``civic311 up --demo --backend twilio``'s wiring (center/demo_twilio.py), without the
processes: the simulator's REST API answers the demo account, the web server and the worker
are handed its address and the demo credentials, the menu is opened for the demo."""

from __future__ import annotations

import requests
import yaml
from click.testing import CliRunner

from center.cli import cli
from center.demo_twilio import ACCOUNT_SID, TwilioDemo
from foundation.db import Database
from foundation.settings import Settings


def test_the_twilio_demo_serves_the_simulator_and_hands_its_address_on(
        settings: Settings, sqlite_db: Database) -> None:
    demo = TwilioDemo(settings, sqlite_db, seed=7)
    try:
        api = demo.serve_api()
        env = demo.env()
        assert env["CIVIC311_TELEPHONY_BACKEND"] == "twilio"
        assert env["CIVIC311_TWILIO_API_BASE"] == api
        assert env["PUBLIC_BASE_URL"] == f"http://{settings.web_host}:{settings.web_port}"
        url = f"{api}/2010-04-01/Accounts/{ACCOUNT_SID}/Queues.json"
        assert requests.get(url, auth=(ACCOUNT_SID, env["TWILIO_AUTH_TOKEN"]),
                            timeout=5).json()["queues"] == []
        assert requests.get(url, auth=(ACCOUNT_SID, "wrong"), timeout=5).status_code == 401
        menu = yaml.safe_load((settings.data_dir / "ivr" / "menu.yaml").read_text())
        assert menu["hours"]["always_open"] is True
        assert {a for a in demo.sim.agents} <= set(settings.agent_extensions)
        demo._agent("login", "101", "citywide", "")  # the desktop's command row
        with sqlite_db.session() as s:
            from acd import live_store

            [cmd] = live_store.pending_commands(s)
        assert (cmd.action, cmd.agent, cmd.queue) == ("login", "101", "citywide")
    finally:
        demo.stop()


def test_up_takes_a_backend() -> None:
    out = CliRunner().invoke(cli, ["up", "--help"]).output
    assert "--backend [asterisk|twilio]" in out
