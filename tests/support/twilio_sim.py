"""The Twilio simulator (telephony/twilio_sim) wired to a civic311 app in a test: webhooks
through the app's test client, civic311's REST calls to the simulator's real HTTP server,
the simulated agents' log-ins and transfers as the desktop's commands, and one virtual clock
for both (civic311's ``utcnow`` in the Twilio modules reads the simulator's time)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from acd import live_store
from acd.states import CommandKind
from acd.transfer import TargetKind
from acd.twilio_acd import conference
from acd.twilio_acd.dispatch_jobs import Dispatcher
from foundation.db import Database
from telephony.twilio_sim.cloud import Sim
from telephony.twilio_sim.rest import RestApp, serve
from telephony.twilio_sim.scenario import Scenario
from tests.integration.ivr.test_twilio import write_menu

AC, TOKEN, BASE = "AC" + "5" * 32, "sim-twilio-token-1234", "https://311.civic.example"
T0 = datetime(2026, 12, 1, 15, 0, 0, tzinfo=UTC)
CLOCKED = ("ivr.menu_twiml", "acd.twilio_acd.twiml_web", "acd.twilio_acd.conference_web",
           "recordings.twilio_fetch")


class ClientTransport:
    """Webhooks into the app's test client (the path with its query, signed by the sim)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.down = False  # civic311 is not running: nothing answers
        self.fail_once: set[tuple[str, str]] = set()  # (path, CallSid): a 500 the first time

    def post(self, path: str, params: dict[str, str], signature: str) -> tuple[int, str]:
        if self.down:
            return 0, ""
        if (path, params.get("CallSid", "")) in self.fail_once:  # a proxy's hiccup
            self.fail_once.discard((path, params.get("CallSid", "")))
            return 500, ""
        resp = self.client.post(path, data=params, headers={"X-Twilio-Signature": signature})
        return resp.status_code, resp.get_data(as_text=True)


@contextmanager
def simulated(app: Flask, scenario: Scenario, monkeypatch: pytest.MonkeyPatch,
              **queue_settings: Any) -> Iterator[tuple[Sim, RestApp, Dispatcher]]:
    """The app on the Twilio backend, its account simulated; ``queue_settings`` apply to
    citywide (``timeout_s=60``...)."""
    import importlib

    settings = app.extensions["civic311.settings"]
    db: Database = app.extensions["civic311.db"]
    now = [T0]
    for name in CLOCKED:
        monkeypatch.setattr(importlib.import_module(name), "utcnow", lambda: now[0])
    settings.queues = [q.model_copy(update=queue_settings) if q.name == "citywide" else q
                       for q in settings.queues]
    names = settings.queue_names()

    def agent(action: str, ext: str, queue: str | None, reason: str) -> None:
        """What the agent's desktop does (the same rows its endpoints write)."""
        with db.session() as s:
            if action in ("transfer", "consult"):  # reason: the desktop's "to", "queue:noise"
                kind, _, value = reason.partition(":")
                xfer = (CommandKind.BLIND_TRANSFER if action == "transfer"
                        else CommandKind.ATTENDED_TRANSFER)
                live_store.request_transfer(s, "twilio-sim", ext, xfer, TargetKind(kind), value,
                                            names, settings.agent_extensions)
            elif action in ("hold", "unhold"):  # the phone's Hold and Resume
                conference.hold(s, ext, action == "hold", BASE, now[0])
            elif action == "complete":
                conference.complete(s, ext, now[0])
            elif action == "cancel":
                conference.cancel(s, ext, BASE, now[0])
            else:
                live_store.request_command(s, "twilio-sim", action, ext, queue, reason, names)

    def moved(at: datetime) -> None:
        now[0] = at

    sim = Sim(scenario, ClientTransport(app.test_client()), BASE, AC, TOKEN, agent,
              epoch=T0, on_time=moved)
    rest = RestApp(sim)
    with serve(rest) as api:
        settings.telephony_backend = "twilio"
        settings.twilio_auth_token, settings.public_base_url = TOKEN, BASE
        settings.twilio_account_sid, settings.twilio_api_base = AC, api
        write_menu(settings.data_dir, closed_today=False)
        yield sim, rest, Dispatcher(settings, db)
