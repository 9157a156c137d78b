"""The real-Asterisk test harness: one PBX per test session, daemons per test, SIPp phones.

The PBX runs from a hard-linked clone of the cached Asterisk root on its own ports, so a
``make run`` instance on this machine is never disturbed. Each test starts its own daemon
(a real ``civic311 daemon`` process) against its own database.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from foundation.settings import DEFAULT_NODE, Settings
from telephony import runtime, sipp
from telephony.install import Install
from telephony.provision import provision
from tests.support import carrier, ports

# 311 is the city menu (tests/integration/ivr walk it); tests about queues and records dial
# the express line: the IVR's one silent keypad pick, then the queue.
EXPRESS_LINE = "3111"
# the AstDB family civic311 writes (recordings.asterisk_sync.FAMILY); reset() clears it
ASTDB_FAMILY = "civic311"

TEST_PORTS = {
    **{k: ports.port(k) for k in ("sip_port", "ami_port", "agi_port", "agent_phone_base_port",
                                  "http_port", "https_port")},  # http: browser phones' WebSocket
    "rtp_start": ports.rtp_range()[0], "rtp_end": ports.rtp_range()[1],
}
# a SIPp phone outside the center that referred callers reach (settings.referral_uri)
REFERRAL_PORT = ports.port("referral_phone")
# The recording notice (on by default) is off in the test queues: every queued test call
# would sit through it; tests/integration/test_trunk_pbx.py turns it on where it tests it.
TEST_QUEUES = [
    {"name": "citywide", "title": "311 General", "wrapup_s": 0, "timeout_s": 60},
    {"name": "sanitation", "title": "Sanitation", "agency": "DSNY", "wrapup_s": 0},
    {"name": "transportation", "title": "Streets", "agency": "DOT", "wrapup_s": 0},
    {"name": "environment", "title": "Environmental", "agency": "DEP", "wrapup_s": 0,
     "survey": True},
    {"name": "buildings", "title": "Buildings", "agency": "DOB", "wrapup_s": 0},
    {"name": "noise", "title": "Noise", "agency": "NYPD", "wrapup_s": 0, "timeout_s": 4},
]
for _q in TEST_QUEUES:
    _q["recording_notice"] = False


# A test names how long its condition takes on a quiet machine; CI's is shared (a load of 10
# on 2 cores has starved the daemon for over 10 s), so the wait is never shorter than this,
# and twice what the test named. Only a failing run waits longer: tests assert the eventual
# state, never the latency.
WAIT_AT_LEAST_S = 30.0


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.2,
               what: str = "condition") -> Any:
    timeout = max(WAIT_AT_LEAST_S, 2 * timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class Pbx:
    settings: Settings
    install: Install
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    phones: list[sipp.SippProcess] = field(default_factory=list)
    callers: list[sipp.SippProcess] = field(default_factory=list)  # this test's residents

    @property
    def sip_target(self) -> str:
        return f"127.0.0.1:{self.settings.sip_port}"

    @property
    def queue_log(self) -> Path:
        return self.install.log_dir / "queue_log"

    def rx(self, command: str) -> str:
        return runtime.rx(self.install, command)

    def start(self) -> None:
        taken = [f"{kind} {port}" for kind, port in (("udp", self.settings.sip_port),
                                                     ("tcp", self.settings.ami_port))
                 if not free(kind, port)]
        if taken:  # an Asterisk would start and not answer there: say so now
            raise AssertionError(f"{', '.join(taken)} already taken (another PBX of this worker "
                                 "is up there?): give this one ports of its own "
                                 "(tests/support/ports.py)")
        log = (self.settings.data_dir / "asterisk.out").open("wb")
        self.proc = subprocess.Popen(runtime.foreground_command(self.install), stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        runtime.wait_fully_booted(self.install, timeout=60)

    def stop(self) -> None:
        if self.proc is None:
            return
        with suppress(RuntimeError, subprocess.TimeoutExpired):
            runtime.rx(self.install, "core stop now", timeout=10)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def cdr_csv(self) -> Path:
        return self.install.log_dir / "cdr-csv" / "Master.csv"

    def queue_log_events(self) -> list[str]:
        """The event name of every queue_log line so far (ENTERQUEUE, CONNECT, ...)."""
        return [f[4] for f in (line.split("|") for line in
                               self.queue_log.read_text().splitlines()) if len(f) > 4]

    def active_channels(self) -> int:
        """How many channels Asterisk has up (``core show channels count``)."""
        m = re.search(r"(\d+) active channels?", self.rx("core show channels count"))
        return int(m.group(1)) if m else 0

    def bridged_with(self, channel: str) -> list[str]:
        """The other channels in ``channel``'s bridge now (``core show channels concise``:
        its 13th field is the bridge's id); [] when it is in none or gone."""
        rows = [line.split("!") for line in self.rx("core show channels concise").splitlines()]
        rows = [r for r in rows if len(r) > 12]
        bridge = next((r[12] for r in rows if r[0] == channel and r[12]), None)
        return [r[0] for r in rows if bridge and r[12] == bridge and r[0] != channel]

    def reset(self) -> None:
        """A clean slate between tests: no phones, no channels (waited for), no members,
        and nothing left by the last test in AstDB (civic311/*), queue_log or the CDR file.
        The last test's agent phones unregistered when they stopped."""
        self.stop_phones()
        self.rx("channel request hangup all")
        wait_until(lambda: self.active_channels() == 0, 15, interval=0.1,
                   what="Asterisk's channels to drain")
        for q in self.settings.queue_names():
            for iface in set(re.findall(r"\((PJSIP/[^)\s]+)\)", self.rx(f"queue show {q}"))):
                self.rx(f"queue remove member {iface} from {q}")
        self.rx(f"database deltree {ASTDB_FAMILY}")
        self.queue_log.write_text("")
        if self.cdr_csv.exists():
            self.cdr_csv.write_text("")

    def phone(self, ext: str, ring_ms: int = 500, talk_ms: int = 2000,
              password: str | None = None, bind_ip: str = "127.0.0.1",
              hold: tuple[int, int] | None = None,
              refer: tuple[int, str] | None = None,
              attended: sipp.Attended | None = None,
              speech: Path | None = None) -> sipp.SippProcess:
        """Agent ``ext``'s SIPp phone, started (its own password unless one is given); with
        ``speech`` (sipp.SPEECH_PCAP) it talks once it has answered."""
        port = self.settings.agent_phone_port(ext)
        phone = sipp.agent_phone(port, self.sip_target, f"agent{ext}",
                                 password or self.settings.agent_sip_passwords[ext],
                                 ring_ms=ring_ms, talk_ms=talk_ms, bind_ip=bind_ip, hold=hold,
                                 refer=refer, attended=attended, speech=speech)
        self.phones.append(phone)
        return phone

    def add_agent(self, ext: str, queues: list[str], ring_ms: int = 500,
                  talk_ms: int = 2000, hold: tuple[int, int] | None = None,
                  refer: tuple[int, str] | None = None,
                  attended: sipp.Attended | None = None,
                  speech: Path | None = None) -> sipp.SippProcess:
        """Agent ``ext``'s phone registered (its contact reachable) and logged in to ``queues``."""
        phone = self.phone(ext, ring_ms=ring_ms, talk_ms=talk_ms, hold=hold, refer=refer,
                           attended=attended, speech=speech)
        try:
            runtime.wait_registered(self.install, f"agent{ext}", f";line={phone.line}",
                                    alive=phone.running)
        except TimeoutError as exc:
            raise AssertionError(f"{exc}: {phone.log.read_text()[-2000:]}") from None
        for q in queues:
            self.rx(f"queue add member PJSIP/agent{ext} to {q} penalty 0 as {ext}")
        return phone

    def stop_phones(self) -> None:
        """Stop every phone; the agents' phones unregister (``sipp.log_off``), and residents
        still calling are stopped (a failed test's would call on for minutes)."""
        sipp.log_off(self.phones)
        self.phones.clear()
        for caller in self.callers:
            caller.stop()
        self.callers.clear()

    def call(self, calls: int = 1, rate: float = 1, digits: str = "", hold_ms: int = 20000,
             number: str = EXPRESS_LINE, **kw: Any) -> sipp.SippProcess:
        """SIPp residents; by default on the express line (no menu prompts to sit through)."""
        caller = sipp.callers(self.sip_target, calls=calls, rate=rate, digits=digits,
                              hold_ms=hold_ms, number=number, **kw)
        self.callers.append(caller)
        return caller


def free(kind: str, port: int) -> bool:
    """Nobody listens on 127.0.0.1's ``kind`` ("udp" or "tcp") ``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp"
                       else socket.SOCK_STREAM) as sock:
        if kind == "tcp":  # a connection in TIME_WAIT leaves the port free
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def make_pbx(tmp: Path, cache_dir: Path, **overrides: str) -> Pbx:
    """A PBX on the test ports; ``overrides`` are more CIVIC311_* settings (NAME=value)."""
    env = {
        "CIVIC311_DATA_DIR": str(tmp / "data"),
        "CIVIC311_CACHE_DIR": str(cache_dir),
        "CIVIC311_ASTERISK_BINARY": "chroot",
        "CIVIC311_ASTERISK_ROOT_DIR": str(tmp / "asterisk-root"),
        "CIVIC311_QUEUES": json.dumps(TEST_QUEUES),
        "CIVIC311_LOG_LEVEL": "INFO",
        "CIVIC311_RESIDENT_TRUST_LOCAL": "true",  # SIPp residents call from 127.0.0.1
        "CIVIC311_REFERRAL_URI": f"sip:127.0.0.1:{REFERRAL_PORT}",
        **carrier.trunk_env(),  # a trunk to the SIPp carrier on 127.0.0.9
        **{f"CIVIC311_{k.upper()}": str(v) for k, v in TEST_PORTS.items()},
        **{f"CIVIC311_{k.upper()}": v for k, v in overrides.items()},
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        from foundation.settings import load_settings

        settings = load_settings()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    install = provision(settings)
    return Pbx(settings, install, env)


@dataclass
class DaemonProc:
    proc: subprocess.Popen[bytes]
    log: Path
    db_url: str

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait()
        return self.proc.returncode


def _tail(path: Path, chars: int) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError as exc:
        return f"({exc})"


def diagnostics(pbx: Pbx | None,
                daemons: Sequence[DaemonProc | None]) -> list[tuple[str, str]]:
    """What a failed real-Asterisk test leaves for whoever reads the report: its daemons'
    logs, queue_log, Asterisk's channels, and each phone's own log and SIP errors (a flake
    seen once in CI must be diagnosable from its output alone)."""
    out: list[tuple[str, str]] = []
    for log in dict.fromkeys(d.log for d in daemons if d is not None):  # a restart: one log
        out.append((f"daemon log {log.parent.name} (tail)", _tail(log, 6000)))
    if pbx is not None:
        out.append(("queue_log (tail)", _tail(pbx.queue_log, 4000)))
        try:
            out.append(("core show channels", pbx.rx("core show channels concise")))
        except Exception as exc:  # Asterisk itself may be what failed
            out.append(("core show channels", f"({exc})"))
        for phone in pbx.phones:
            name = phone.workdir.name
            out.append((f"phone {name}: sipp log", _tail(phone.log, 1500)))
            out.append((f"phone {name}: SIP errors", _tail(phone.workdir / "errors.log", 3000)))
        for caller in pbx.callers:  # a resident who never reached the queue says why here
            ok, failed = caller.counts()
            state = "running" if caller.running() else f"exited {caller.proc.returncode}"
            out.append((f"caller {caller.workdir.name}: {state}, {ok} ok, {failed} failed",
                        _tail(caller.log, 1500) + _tail(caller.workdir / "errors.log", 2000)))
    return out


# every daemon a test started, so the test's teardown stops the ones it left running: a test
# that fails between start_daemon and its own try/finally must not leave a daemon holding
# the worker's AGI port (every later test of that worker would fail to start its own)
STARTED: list[DaemonProc] = []


def stop_leftover_daemons() -> int:
    """Stop the daemons tests started and left running; returns how many there were."""
    left = [d for d in STARTED if d.proc.poll() is None]
    for d in left:
        d.stop()
    STARTED.clear()
    return len(left)


def start_daemon(pbx: Pbx, db_url: str, log: Path) -> DaemonProc:
    # unbuffered: a failing test's report shows the log as it stood, not an empty file
    env = {**os.environ, **pbx.env, "DATABASE_URL": db_url, "PYTHONUNBUFFERED": "1"}
    out = log.open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "center", "daemon"], env=env, stdout=out,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    daemon = DaemonProc(proc, log, db_url)
    STARTED.append(daemon)
    engine = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    node = pbx.settings.node  # each node's daemon beats in its own row
    component = "daemon" if node == DEFAULT_NODE else f"daemon@{node}"
    try:
        def connected() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"daemon exited: {log.read_text()[-2000:]}")
            with engine.connect() as c:
                row = c.execute(sa.text(
                    "SELECT ok, detail FROM heartbeats WHERE component = :c"),
                    {"c": component}).first()
            return bool(row and row[0] and json.loads(row[1]).get("last_reconcile"))

        wait_until(connected, 60, what="the daemon to connect to AMI")
    except BaseException:
        daemon.stop()  # a daemon that never came up must not hold its ports for the next test
        raise
    finally:
        engine.dispose()
    return daemon


@contextmanager
def running_daemon(pbx: Pbx, db_url: str, log: Path) -> Iterator[DaemonProc]:
    daemon = start_daemon(pbx, db_url, log)
    try:
        yield daemon
    finally:
        daemon.stop()


@contextmanager
def running_daemons(nodes: list[tuple[Pbx, Path]], db_url: str) -> Iterator[list[DaemonProc]]:
    """One daemon per node (its PBX, its log file), all started at once; all stopped after."""
    with ThreadPoolExecutor(len(nodes)) as pool:
        futures = [pool.submit(start_daemon, pbx, db_url, log) for pbx, log in nodes]
    started = [f.result() for f in futures if f.exception() is None]
    try:
        if len(started) < len(futures):
            raise next(e for f in futures if (e := f.exception()) is not None)
        yield started
    finally:
        for daemon in started:
            daemon.stop()
