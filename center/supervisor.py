"""``civic311 up``: start and supervise Asterisk, the daemon, the web server and the worker.

Each component is a child process; one that dies is restarted with backoff; Ctrl-C or
SIGTERM stops them in the order that loses nothing (``stop_all``). ``--demo`` adds SIPp
agent phones (logged in to the queues) and a stream of SIPp callers with a realistic 311 mix.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from center import schema
from foundation.db import Database
from foundation.settings import Settings
from telephony import runtime
from telephony.install import Install
from telephony.provision import ProvisionError, provision

log = logging.getLogger(__name__)


@dataclass
class Child:
    name: str
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    env: dict[str, str] = field(default_factory=dict)
    own_session: bool = False  # Ctrl-C reaches the supervisor only, which stops it in turn

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, env={**os.environ, **self.env},
                                     stdin=subprocess.DEVNULL,
                                     start_new_session=self.own_session)
        self.started_at = time.monotonic()
        log.info("started %s (pid %d)", self.name, self.proc.pid)

    def exited(self) -> bool:
        return self.proc is None or self.proc.poll() is not None

    def stop(self, timeout: float = 15) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def children(settings: Settings, install_cmd: list[str]) -> list[Child]:
    me = [sys.executable, "-m", "center"]
    env = {"CIVIC311_DATA_DIR": str(settings.data_dir),
           "CIVIC311_CACHE_DIR": str(settings.cache_dir)}
    if settings.database_url:
        env["DATABASE_URL"] = settings.database_url
    return [
        Child("asterisk", install_cmd),
        Child("daemon", [*me, "daemon"], env=env),
        Child("web", [*me, "web"], env=env),
        Child("worker", [*me, "worker"], env=env),
    ]


def run_all(settings: Settings, demo: bool = False, backend: str = "asterisk") -> int:
    if backend == "twilio":
        return run_twilio(settings, demo)
    try:
        install = provision(settings)
    except ProvisionError as exc:
        print(f"civic311: {exc}", file=sys.stderr)
        return 2
    db = Database(settings.db_url)
    schema.upgrade(db)
    if runtime.is_running(install):
        print("civic311: an Asterisk is already running; stop it first "
              "(civic311 asterisk stop)", file=sys.stderr)
        return 2
    procs = children(settings, runtime.foreground_command(install))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    procs[0].start()
    runtime.wait_fully_booted(install, timeout=60)
    for child in procs[1:]:
        child.start()
    demo_runner = None
    if demo:
        from center.demo import DemoRunner

        demo_runner = DemoRunner(settings, install)
        demo_runner.start()
    _announce(settings)
    try:
        supervise(procs, stop)
    finally:
        if demo_runner is not None:
            demo_runner.stop()
        stop_all(settings, install, procs)
        db.dispose()
        print("civic311 stopped", flush=True)
    return 0


def _announce(settings: Settings) -> None:
    base = f"http://{settings.web_host}:{settings.web_port}"
    print(f"civic311 is up: wallboard {base}/wallboard  status {base}/status  "
          f"log in at {base}/login   (Ctrl-C stops everything)", flush=True)


def supervise(procs: list[Child], stop: threading.Event) -> None:
    """Restart a child that dies (with backoff) until ``stop`` is set."""
    while not stop.wait(1.0):
        for child in procs:
            if child.proc is not None and child.proc.poll() is not None:
                delay = min(30, 2 ** min(child.restarts, 5))
                if time.monotonic() - child.started_at < delay:
                    continue
                log.warning("%s exited with status %s; restarting it in the background "
                            "(its own log lines above say why; `civic311 %s` runs it alone)",
                            child.name, child.proc.returncode, child.name)
                child.restarts += 1
                child.start()


def run_twilio(settings: Settings, demo: bool) -> int:
    """The Twilio backend: no Asterisk and no telephony daemon, the web server and the
    worker only; with ``demo`` on the local Twilio simulator (center/demo_twilio.py)."""
    db = Database(settings.db_url)
    schema.upgrade(db)
    sim = None
    extra = {"CIVIC311_TELEPHONY_BACKEND": "twilio"}
    if demo:
        from center.demo_twilio import TwilioDemo

        sim = TwilioDemo(settings, db)
        sim.serve_api()
        extra |= sim.env()
    elif not (settings.twilio_account_sid and settings.twilio_auth_token
              and settings.public_base_url):
        print("civic311: the twilio backend needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
              "PUBLIC_BASE_URL (or --demo, on the local Twilio simulator)", file=sys.stderr)
        return 2
    procs = [c for c in children(settings, []) if c.name in ("web", "worker")]
    for child in procs:  # the simulator's callers hang up before the web server stops
        child.env |= extra
        child.own_session = demo
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    for child in procs:
        child.start()
    if sim is not None:
        sim.start()
    _announce(settings)
    try:
        supervise(procs, stop)
    finally:
        if sim is not None:
            sim.stop()  # no new calls; the calls up are left to Twilio (here: dropped)
        for child in reversed(procs):
            child.stop()
        db.dispose()
        print("civic311 stopped", flush=True)
    return 0


def stop_all(settings: Settings, install: Install, procs: list[Child]) -> None:
    """Asterisk takes no new call, the calls up end (or are cut after ``stop_grace_s``), the
    daemon records their ends (it reconciles with queue_log as it stops), then the rest."""
    asterisk, daemon, *others = procs
    log.info("stopping: no new calls; waiting up to %.0f s for the %d calls up to end",
             settings.stop_grace_s, runtime.active_calls(install))
    cut = runtime.drain(install, asterisk.exited, settings.stop_grace_s)
    if cut:
        log.warning("stopping: %d calls still up after %.0f s were cut", cut,
                    settings.stop_grace_s)
    else:
        log.info("stopping: no call was cut")
    daemon.stop(timeout=60)  # it applies what is queued and reconciles before it exits
    for child in reversed(others):
        child.stop()
    runtime.stop(install)
    asterisk.stop()
