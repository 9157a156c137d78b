"""``civic311 up --demo``: SIPp agent phones logged in to the queues, and residents calling.

The mix follows real 311 centers: most callers wait for the general line, a share go to
an agency line, about one in ten hangs up while waiting, and some walk the city menu on 311
(a FAQ answered by the IVR, or on to an agent). Queue traffic uses the express line 3111 so
the wallboard moves at any hour (311 keeps the city's business hours). Agents ring for a
moment and talk for a few tens of seconds (scaled down from a real 3.5-minute handle time
so the wallboard moves quickly).

The first agent seat is left to a person: log in as the seeded ``agent`` user (that seat),
open the desktop, press Ready and the browser phone takes demo callers like any SIPp agent.
The simulated phones on both ends talk (SIPp plays Debian's G.711 A-law speech capture), so
the demo's recordings hold audio.
"""

from __future__ import annotations

import logging
import random
import threading
from pathlib import Path

from foundation.settings import Settings
from telephony import runtime, sipp
from telephony.install import Install

log = logging.getLogger(__name__)

# (weight, number dialled, keypad digits, caller patience ms)
CALL_MIX = [
    (38, "3111", "", 90_000), (9, "3111", "1", 90_000), (9, "3111", "2", 90_000),
    (7, "3111", "3", 90_000), (7, "3111", "4", 90_000), (6, "3111", "5", 90_000),
    (11, "3111", "", 12_000),
    (8, "311", "1,,2,,1", 35_000),  # English, FAQs, trash days: answered by the IVR
    (5, "311", "1,,0", 90_000),     # English, an agent
]
MENU_FIRST_DIGIT_MS = 2500  # 311 greets first


def person_seat(settings: Settings) -> str:
    """The agent seat no simulated phone takes (the seeded ``agent`` user's)."""
    return settings.agent_extensions[0]


def speech() -> Path | None:
    """The speech the simulated phones play, when this sip-tester ships it."""
    return sipp.SPEECH_PCAP if sipp.SPEECH_PCAP.is_file() else None


class DemoRunner:
    def __init__(self, settings: Settings, install: Install, calls_per_minute: float = 12,
                 seed: int | None = None) -> None:
        self.settings = settings
        self.install = install
        self.rate = calls_per_minute
        self.random = random.Random(seed)
        self.phones: list[sipp.SippProcess] = []
        self.callers: list[sipp.SippProcess] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-callers", daemon=True)

    def start(self) -> None:
        person = person_seat(self.settings)
        agents = [e for e in self.settings.agent_extensions if e != person][:6]
        registrar = f"127.0.0.1:{self.settings.sip_port}"
        for i, ext in enumerate(agents):
            phone = sipp.agent_phone(self.settings.agent_phone_port(ext), registrar,
                                     f"agent{ext}", self.settings.agent_sip_passwords[ext],
                                     ring_ms=800 + 300 * i, talk_ms=15_000 + 5_000 * i,
                                     speech=speech())
            self.phones.append(phone)
        for ext, phone in zip(agents, self.phones, strict=True):
            try:  # registered and answering qualify before it joins a queue
                runtime.wait_registered(self.install, f"agent{ext}", f";line={phone.line}",
                                        alive=phone.running)
            except TimeoutError as exc:
                log.warning("demo: agent %s's phone is not registered (%s); see %s",
                            ext, exc, phone.log)
        for i, ext in enumerate(agents):
            queues = self.settings.queue_names()
            member_of = [queues[0], queues[1 + i % (len(queues) - 1)]]
            for q in member_of:
                runtime.rx(self.install, f"queue add member PJSIP/agent{ext} to {q} "
                                         f"penalty 0 as {ext}")
        log.info("demo: %d agent phones logged in; seat %s is yours: log in as 'agent', open "
                 "/agent/desktop and press Ready (or call 311 from /phone/training)",
                 len(agents), person)
        self._thread.start()

    def _run(self) -> None:
        target = f"127.0.0.1:{self.settings.sip_port}"
        weights = [w for w, *_ in CALL_MIX]
        while not self._stop.wait(self.random.expovariate(self.rate / 60)):
            _, line, digits, patience = self.random.choices(CALL_MIX, weights)[0]
            number = f"+1718{self.random.randrange(10**6, 10**7)}"
            self.callers = [c for c in self.callers if c.proc.poll() is None]
            first_ms = MENU_FIRST_DIGIT_MS if line == "311" else 1500
            self.callers.append(sipp.callers(target, calls=1, rate=1, digits=digits,
                                             hold_ms=patience, caller_numbers=[number],
                                             number=line, first_digit_ms=first_ms,
                                             speech=speech()))

    def stop(self) -> None:
        self._stop.set()
        for proc in self.callers:
            proc.stop()
        sipp.log_off(self.phones)
