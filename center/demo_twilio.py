"""``civic311 up --demo --backend twilio``: the demo on the local Twilio simulator.

The simulator (``telephony/twilio_sim``) plays Twilio's cloud: its REST API is served on
a free local port (the web and the worker get it as ``CIVIC311_TWILIO_API_BASE``), and its
callers and agents come from ``telephony/twilio_sim/scenarios/demo.yaml``: agents logged in
to citywide (their log-ins and pauses are the desktop's commands, written here), residents
calling the number at the demo's rate, the webhooks signed with a demo auth token for
``PUBLIC_BASE_URL`` = the local web server. Nothing reaches Twilio's cloud.

The Twilio IVR keeps the city's hours (there is no express line on Twilio): when the data
directory has no menu of its own, the demo writes the default menu there, always open, so
the wallboard moves at any hour (and says so in the log).
"""

from __future__ import annotations

import logging
import secrets
import socket
import threading
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import yaml

from acd import live_store
from foundation.db import Database
from foundation.settings import Settings
from ivr.menu import DEFAULT_MENU
from telephony.twilio_sim import scenario as sc
from telephony.twilio_sim.cloud import HttpTransport, Sim
from telephony.twilio_sim.rest import RestApp, serve

log = logging.getLogger(__name__)

SCENARIO = Path(sc.__file__).resolve().parent / "scenarios" / "demo.yaml"
ACCOUNT_SID = "AC" + "0" * 30 + "31"


class TwilioDemo:
    def __init__(self, settings: Settings, db: Database, seed: int | None = None) -> None:
        self.settings, self.db = settings, db
        plan = sc.load(SCENARIO)
        seats = set(settings.agent_extensions)
        agents = tuple(a for a in plan.agents if a.agent in seats)
        if len(agents) < len(plan.agents):
            log.warning("demo: seats %s are not agent extensions here; left out",
                        sorted({a.agent for a in plan.agents} - seats))
        self.token = secrets.token_urlsafe(24)
        self.web = f"http://{settings.web_host}:{settings.web_port}"
        self.sim = Sim(replace(plan, agents=agents), HttpTransport(self.web), self.web,
                       ACCOUNT_SID, self.token, self._agent,
                       seed=seed if seed is not None else secrets.randbits(32))
        self.rest = RestApp(self.sim)
        self.stack = ExitStack()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="twilio-sim", daemon=True)
        self.api = ""

    def env(self) -> dict[str, str]:
        """What the web server and the worker need to run on the simulator."""
        return {"CIVIC311_TELEPHONY_BACKEND": "twilio", "CIVIC311_TWILIO_API_BASE": self.api,
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": self.token,
                "PUBLIC_BASE_URL": self.web}

    def serve_api(self) -> str:
        """Start the simulator's REST API (before the web and the worker: they need it)."""
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per REST call
        self.api = self.stack.enter_context(serve(self.rest))
        self._open_menu()
        return self.api

    def start(self) -> None:
        """Callers and agents begin once the web server answers."""
        self.thread.start()

    def _run(self) -> None:
        host, port = self.settings.web_host, self.settings.web_port
        deadline = time.monotonic() + 60
        while not self.stopping.is_set() and time.monotonic() < deadline:
            try:
                socket.create_connection((host, port), timeout=1).close()
                break
            except OSError:
                self.stopping.wait(0.5)
        log.info("demo: Twilio simulator at %s; %d agents, %.0f calls a minute", self.api,
                 len(self.sim.agents), self.sim.scenario.demo.calls_per_minute
                 if self.sim.scenario.demo else 0)
        self.sim.serve(self.stopping)

    def stop(self) -> None:
        """The demo's callers hang up (their records end) before the web server stops."""
        self.stopping.set()
        with self.sim.lock:
            self.sim.wake.notify_all()
        if self.thread.is_alive():
            self.thread.join(timeout=20)
        log.info("demo: %d simulated callers hung up", self.sim.hang_up_all())
        self.stack.close()

    def _agent(self, action: str, agent: str, queue: str | None, reason: str) -> None:
        try:
            with self.db.session() as s:
                live_store.request_command(s, "twilio-demo", action, agent, queue, reason,
                                           self.settings.queue_names())
        except live_store.CommandError as exc:
            log.warning("demo: agent %s %s: %s", agent, action, exc)

    def _open_menu(self) -> None:
        path = Path(self.settings.data_dir) / "ivr" / "menu.yaml"
        if path.exists():
            return
        menu = yaml.safe_load(DEFAULT_MENU.read_text(encoding="utf-8"))
        menu["hours"]["always_open"] = True
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# written by `civic311 up --demo --backend twilio`: the default menu, "
                        "always open\n" + yaml.safe_dump(menu, allow_unicode=True),
                        encoding="utf-8")
        log.info("demo: wrote %s (the default menu, always open) so demo calls reach agents "
                 "at any hour", path)
