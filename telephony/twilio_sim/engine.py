"""The simulator's clock, timers and webhooks (``Engine``, the base of ``cloud.Sim``).

Time is the simulator's: ``run_until`` moves a virtual clock from event to event (and lets
the caller run civic311's dispatcher every whole second); ``serve`` follows the wall clock
for the demo. A webhook is signed for civic311's public URL as Twilio signs it; a callback
answered 5xx or not at all is sent again (``retries``), and the scenario may have any sent
twice (``duplicate``).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator

from telephony.twilio_sim import twiml
from telephony.twilio_sim.calls import Call, Transport
from telephony.twilio_sim.scenario import AgentPlan, Scenario
from telephony.twilio_sim.twiml import Verb

log = logging.getLogger(__name__)

# (action, agent, queue, reason): login, pause, unpause, logout, and transfer (reason: the
# desktop's target, "queue:noise", "agent:102" or "referral:+12125550100")
AgentHook = Callable[[str, str, str | None, str], None]


class Engine:
    """Calls, queues, agents and recordings of the account, and the time they live in."""

    def __init__(self, scenario: Scenario, transport: Transport, public_base: str,
                 account_sid: str, auth_token: str, agent_hook: AgentHook | None = None,
                 epoch: datetime | None = None, seed: int = 311,
                 on_time: Callable[[datetime], None] | None = None) -> None:
        self.scenario, self.transport = scenario, transport
        self.public_base = public_base.rstrip("/")
        self.account_sid, self.auth_token = account_sid, auth_token
        self.signer = RequestValidator(auth_token)
        self.agent_hook = agent_hook or (lambda *_: None)
        self.epoch = epoch or datetime.now(UTC)
        self.on_time = on_time
        self.rng = random.Random(seed)
        self.lock = threading.RLock()
        self.wake = threading.Condition(self.lock)
        self.now = 0.0
        self.next_second = 0  # run_until's next whole second
        self.realtime = False
        self.timers: list[tuple[float, int, Callable[[], None]]] = []
        self.order = itertools.count()
        self.calls: dict[str, Call] = {}
        self.queues: dict[str, str] = {}  # name -> QU sid
        self.members: dict[str, list[str]] = {}  # QU sid -> CallSids in line
        # RE sid -> (CallSid, seconds, channels: 2 a Dial's dual-channel, 1 a Conference's)
        self.recordings: dict[str, tuple[str, float, int]] = {}
        self.webhooks: list[tuple[float, str, dict[str, str], int]] = []  # what was sent
        self.agents: dict[str, AgentPlan] = {a.agent: a for a in scenario.agents}
        self.api_base = "http://127.0.0.1"  # where rest.serve answers (RecordingUrl)

    # ---- time ------------------------------------------------------------------------------

    def when(self, t: float | None = None) -> datetime:
        return self.epoch + timedelta(seconds=self.now if t is None else t)

    def at(self, t: float, fn: Callable[[], None]) -> None:
        with self.lock:
            heapq.heappush(self.timers, (max(t, self.now), next(self.order), fn))
            self.wake.notify_all()

    def _later(self, call: Call, delay_s: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` after ``delay_s`` unless the call has moved on by then."""
        epoch = call.epoch
        self.at(self.now + delay_s, lambda: fn() if call.epoch == epoch and call.ended is None
                else None)

    def _set(self, t: float) -> None:
        self.now = t
        if self.on_time is not None:
            self.on_time(self.when())

    def _due(self) -> None:
        """Run every timer due by now (those they add for now too)."""
        with self.lock:
            while self.timers and self.timers[0][0] <= self.now:
                _, _, fn = heapq.heappop(self.timers)
                fn()

    def run_until(self, end: float, tick: Callable[[datetime], None] | None = None) -> None:
        """Virtual time: every event up to ``end`` seconds, with ``tick`` (civic311's
        dispatcher) after the events of each whole second, and what it asked done at once."""
        second = self.next_second
        while second <= end:
            with self.lock:
                while self.timers and self.timers[0][0] < second:
                    self._set(self.timers[0][0])
                    self._due()
                self._set(float(second))
                self._due()
            if tick is not None:
                tick(self.when())
            self._due()
            second += 1
        self.next_second = max(self.next_second, second)

    def serve(self, stop: threading.Event) -> None:
        """Wall-clock time (the demo): events as they fall due until ``stop`` is set."""
        self.realtime = True
        start = time.monotonic() - self.now
        while not stop.is_set():
            with self.lock:
                self._set(time.monotonic() - start)
                self._due()
                wait = min(0.5, (self.timers[0][0] - self.now) if self.timers else 0.5)
                self.wake.wait(max(0.01, wait))

    # ---- webhooks ----------------------------------------------------------------------------

    def _path(self, url: str) -> str:
        """A URL civic311 gave as a path on its public base (relative ones are resolved)."""
        if url.startswith(self.public_base):
            url = url[len(self.public_base):]
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def _send(self, kind: str, call: Call | None, path: str, params: dict[str, str],
              retries: int = 0) -> tuple[int, str]:
        """One webhook, signed for the public URL; retried ``retries`` times on 5xx or no
        answer; sent a second time when the scenario says so (``duplicate``)."""
        path = self._path(path)
        form = {"AccountSid": self.account_sid, "ApiVersion": "2010-04-01", **params}
        signature = self.signer.compute_signature(self.public_base + path, form)
        for _ in range(retries + 1):
            status, body = self.transport.post(path, form, signature)
            self.webhooks.append((self.now, path, form, status))
            if status and status < 500:
                break
        if call is not None and kind in call.plan.duplicate:
            second = self.transport.post(path, form, signature)
            self.webhooks.append((self.now, path, form, second[0]))
        return status, body

    def _call_params(self, call: Call) -> dict[str, str]:
        frm, to = call.plan.from_number, call.dialed_from or "+13115550311"
        if call.direction == "outbound-api":  # civic311 called the resident back
            frm, to = to, frm
        return {"CallSid": call.sid, "From": frm, "To": to, "Caller": frm, "Called": to,
                "CallStatus": call.status, "Direction": call.direction}

    def _fetch(self, call: Call, url: str, extra: dict[str, str], kind: str = "twiml"
               ) -> list[Verb] | None:
        """TwiML from civic311 for ``call``; None (and the call ends, as Twilio's
        application-error message ends it) when it fails or is not TwiML. A waitUrl that
        fails leaves the caller in line: None, the call goes on."""
        status, body = self._send(kind, call, url, {**self._call_params(call), **extra})
        if status != 200:
            log.warning("twilio sim: %s answered %s for %s", url, status, call.sid)
            if kind != "wait":
                self._hang_up(call, "error")
            return None
        try:
            return twiml.parse(body)
        except twiml.TwimlError as exc:
            log.warning("twilio sim: %s for %s is not TwiML: %s", url, call.sid, exc)
            self._hang_up(call, "error")
            return None

    def logged_in(self, queue: str, t: float) -> bool:
        """Someone is logged in to ``queue`` at ``t`` (paused or not), by the scenario."""
        return any(queue in a.queues and a.login_at <= t
                   and (a.logout_at is None or t < a.logout_at) for a in self.agents.values())

    def _hang_up(self, call: Call, side: str) -> None:
        raise NotImplementedError  # verbs.Verbs
