"""Twilio's call engine, simulated: it runs the TwiML civic311 answers for every call.

A caller's call starts with the number's Voice webhook (``/twilio/voice``), follows each
``<Gather>`` with the scenario's keys, joins a queue at ``<Enqueue>`` and runs its
``waitUrl`` until civic311 dequeues it by REST (``rest.py`` calls ``dequeue``), a
``<Leave>`` or the caller's patience ends it. A ``<Dial>`` rings the simulated agent (its
``ring_s``, or never), posts the agent leg's ``answered`` status callback, bridges, and
when one side hangs up posts the Dial action, the recording callback and the call's
``completed`` status callback, in that order. Twilio's retries are played too: a callback
answered 5xx or not at all is sent again once, and the scenario can have any callback sent
twice (``duplicate``) or the answered one after the Dial action (``late``).

Time is the simulator's: ``Sim.run_until`` moves a virtual clock from event to event (and
lets the caller run civic311's dispatcher every whole second); ``Sim.serve`` follows the
wall clock for the demo. Every call ends with a ``Truth`` per queue entry: what happened,
as the simulator saw it.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Protocol
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator

from telephony.twilio_sim import twiml
from telephony.twilio_sim.scenario import AgentPlan, CallerPlan, Scenario, demo_caller, draw
from telephony.twilio_sim.twiml import Verb

log = logging.getLogger(__name__)

VOICE_URL, STATUS_URL = "/twilio/voice", "/twilio/status"  # the number's two webhooks
API = "/2010-04-01/Accounts"
MAX_QUEUE = 1000
DEFAULT_DIAL_TIMEOUT_S = 30
OUTSIDE_TALK_S = 20.0  # a number outside the center (a referral) answers and talks this long
DEMO_FIRST_CALL_S = 5.0
WAIT_RETRY_S = 5  # a waitUrl that failed is requested again after this long
MAX_STEPS = 200  # TwiML verbs one call may run at one instant (a loop in civic311's TwiML)

# (action, agent, queue, reason): login, pause, unpause, logout, and transfer (reason: the
# desktop's target, "queue:noise", "agent:102" or "referral:+12125550100")
AgentHook = Callable[[str, str, str | None, str], None]


class Transport(Protocol):
    def post(self, path: str, params: dict[str, str], signature: str) -> tuple[int, str]:
        """POST a webhook (``path`` with its query); (status, body), status 0 unreachable."""


class HttpTransport:
    """Webhooks over HTTP to a running civic311 (``base``: where it listens)."""

    def __init__(self, base: str, timeout_s: float = 15) -> None:
        import requests

        self.base, self.timeout_s = base.rstrip("/"), timeout_s
        self.session = requests.Session()
        self.errors: tuple[type[BaseException], ...] = (requests.RequestException,)

    def post(self, path: str, params: dict[str, str], signature: str) -> tuple[int, str]:
        try:
            resp = self.session.post(self.base + path, data=params, timeout=self.timeout_s,
                                     headers={"X-Twilio-Signature": signature})
        except self.errors as exc:
            log.warning("twilio sim: %s unreachable: %s", path, exc)
            return 0, ""
        return resp.status_code, resp.text


@dataclass
class Truth:
    """One queue entry as the simulator saw it (seconds from the scenario's start)."""

    uniqueid: str
    leg: int
    queue: str
    entered_at: float
    outcome: str = ""  # answered abandoned timeout exit_key exit_empty refused
    wait_s: float = 0.0
    talk_s: float | None = None
    agent: str | None = None
    exit_key: str | None = None
    hangup_side: str | None = None  # caller | agent | transfer
    transfer_target: str | None = None
    rang: list[tuple[str, float]] = field(default_factory=list)  # let it ring: agent, s


@dataclass
class Leg:
    """The agent's (or an outside number's) side of a ``<Dial>``."""

    sid: str
    to: str
    agent: AgentPlan | None
    attrs: dict[str, str]
    noun: dict[str, str]
    started: float
    answered: float | None = None
    ended: float | None = None


@dataclass
class Call:
    sid: str
    plan: CallerPlan
    started: float
    direction: str = "inbound"
    status: str = "ringing"
    program: list[Verb] = field(default_factory=list)
    pc: int = 0
    keys: list[str] = field(default_factory=list)
    phase: str = "ivr"  # ivr | queue | ringing | bridged | ended
    queue: str | None = None
    queued_at: float = 0.0  # this membership (Twilio's QueueTime counts from here)
    enqueue: Verb | None = None
    after_enqueue: list[Verb] = field(default_factory=list)
    in_wait: bool = False  # running the waitUrl's TwiML
    leg: Leg | None = None
    truth: Truth | None = None
    truths: list[Truth] = field(default_factory=list)
    pressed: str | None = None  # the key pressed while waiting
    ended: float | None = None
    epoch: int = 0  # bumped whenever the call leaves a verb; older timers are stale
    transferred_to: str | None = None  # the queue an agent transferred the caller to
    sequence: itertools.count[int] = field(default_factory=itertools.count)


class Sim:
    """The simulated Twilio account: calls, queues, agents and recordings."""

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
        self.recordings: dict[str, tuple[str, float]] = {}  # RE sid -> (CallSid, seconds)
        self.webhooks: list[tuple[float, str, dict[str, str], int]] = []  # what was sent
        self.agents = {a.agent: a for a in scenario.agents}
        self.api_base = "http://127.0.0.1"  # where rest.serve answers (RecordingUrl)
        for a in scenario.agents:
            self._plan_agent(a)
        for c in scenario.callers:
            self.at(c.at, partial(self.incoming, c))
        if scenario.demo is not None:  # the agents' log-ins go first
            self.at(DEMO_FIRST_CALL_S, self._next_demo_caller)

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
        return {"CallSid": call.sid, "From": call.plan.from_number, "To": "+13115550311",
                "Caller": call.plan.from_number, "Called": "+13115550311",
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

    # ---- agents ------------------------------------------------------------------------------

    def _plan_agent(self, a: AgentPlan) -> None:
        for q in a.queues:
            self.at(a.login_at, partial(self.agent_hook, "login", a.agent, q, ""))
        for p in a.pauses:
            self.at(p.at, partial(self.agent_hook, "pause", a.agent, None, p.reason))
            self.at(p.until, partial(self.agent_hook, "unpause", a.agent, None, ""))
        if a.logout_at is not None:
            self.at(a.logout_at, partial(self.agent_hook, "logout", a.agent, None, ""))

    def logged_in(self, queue: str, t: float) -> bool:
        """Someone is logged in to ``queue`` at ``t`` (paused or not), by the scenario."""
        return any(queue in a.queues and a.login_at <= t
                   and (a.logout_at is None or t < a.logout_at) for a in self.agents.values())

    # ---- a call ------------------------------------------------------------------------------

    def _next_demo_caller(self) -> None:
        demo = self.scenario.demo
        assert demo is not None
        plan = demo_caller(demo, f"CA{self.rng.getrandbits(128):032x}", self.now, self.rng)
        self.incoming(plan)
        self.at(self.now + self.rng.expovariate(demo.calls_per_minute / 60),
                self._next_demo_caller)

    def incoming(self, plan: CallerPlan) -> None:
        """A resident dials the number: Twilio requests its Voice URL."""
        call = Call(plan.sid, plan, self.now, keys=list(plan.keys))
        self.calls[plan.sid] = call
        verbs = self._fetch(call, VOICE_URL, {})
        call.status = "in-progress"
        if verbs is not None:
            self._run(call, verbs)

    def _run(self, call: Call, verbs: list[Verb] | None = None) -> None:
        """Run the call's TwiML from where it is until a verb makes it wait."""
        if verbs is not None:
            call.program, call.pc = verbs, 0
        for _ in range(MAX_STEPS):
            if call.ended is not None:
                return
            if call.pc >= len(call.program):
                if call.in_wait:  # the waitUrl's TwiML re-runs while the caller waits
                    if not self._wait_url(call):
                        return
                    continue
                self._hang_up(call, "twiml")  # no more TwiML: Twilio ends the call
                return
            verb = call.program[call.pc]
            call.pc += 1
            call.epoch += 1
            handler = getattr(self, f"_v_{verb.name.lower()}", None)
            if handler is not None and handler(call, verb):
                return  # it waits (a timer or a REST request moves it on)
        log.warning("twilio sim: %s ran %d verbs at once; hung up", call.sid, MAX_STEPS)
        self._hang_up(call, "error")

    # Each verb handler returns True when the call now waits.

    def _v_pause(self, call: Call, verb: Verb) -> bool:
        self._later(call, float(verb.attrs.get("length", 1)), lambda: self._run(call))
        return True

    def _v_hangup(self, call: Call, verb: Verb) -> bool:
        self._hang_up(call, "twiml")
        return True

    def _v_redirect(self, call: Call, verb: Verb) -> bool:
        verbs = self._fetch(call, verb.text, {})
        if verbs is not None:
            self._run(call, verbs)
        return True

    def _v_gather(self, call: Call, verb: Verb) -> bool:
        timeout = float(verb.attrs.get("timeout", 5))
        action = verb.attrs.get("action", "")
        if call.phase == "queue" and call.plan.queue_key and call.pressed is None:
            after, key = call.plan.queue_key
            press_at = call.truth.entered_at + after if call.truth else self.now
            if press_at < self.now + timeout:
                self._later(call, max(0.0, press_at - self.now),
                            lambda: self._gathered(call, action, key))
                return True
        elif call.phase == "ivr":
            if not call.keys:  # they heard what they called for (or gave up): they hang up
                self._later(call, 0.0, lambda: self._hang_up(call, "caller"))
                return True
            key = call.keys.pop(0)
            self._later(call, 0.0, lambda: self._gathered(call, action, key))
            return True
        empty = verb.attrs.get("actionOnEmptyResult") == "true"
        self._later(call, timeout, lambda: self._gathered(call, action, "") if empty
                    else self._run(call))  # no input: on to the next verb
        return True

    def _gathered(self, call: Call, action: str, digits: str) -> None:
        if call.phase == "queue" and digits:
            call.pressed = digits
        verbs = self._fetch(call, action, {"Digits": digits})
        if verbs is not None:
            self._run(call, verbs)

    def _v_enqueue(self, call: Call, verb: Verb) -> bool:
        name = verb.text
        qsid = self.queues.setdefault(name, f"QU{len(self.queues) + 1:032d}")
        line = self.members.setdefault(qsid, [])
        if len(line) >= MAX_QUEUE:
            self._left(call, "queue-full")
            return True
        line.append(call.sid)
        call.phase, call.queue, call.queued_at = "queue", name, self.now
        call.enqueue, call.after_enqueue = verb, call.program[call.pc:]
        call.transferred_to = None
        if call.truth is None or call.truth.outcome:  # a new queue entry (not a re-queue)
            call.truth = Truth(call.sid, len(call.truths) + 1, name, self.now)
            call.truths.append(call.truth)
            if call.plan.patience_s is not None:
                truth = call.truth
                self.at(self.now + call.plan.patience_s,
                        lambda: self._impatient(call) if call.truth is truth else None)
        return not self._wait_url(call)

    def _wait_url(self, call: Call) -> bool:
        """Fetch the waitUrl's TwiML as the call's program; False when the call is gone."""
        assert call.enqueue is not None and call.queue is not None
        qsid = self.queues[call.queue]
        line = self.members[qsid]
        waited = [self.now - self.calls[s].queued_at for s in line]
        verbs = self._fetch(call, call.enqueue.attrs.get("waitUrl", ""), {
            "QueueSid": qsid, "QueuePosition": str(line.index(call.sid) + 1),
            "QueueTime": str(int(self.now - call.queued_at)),
            "AvgQueueTime": str(int(sum(waited) / len(waited))),
            "CurrentQueueSize": str(len(line)), "MaxQueueSize": str(MAX_QUEUE)}, "wait")
        if call.ended is not None or call.phase != "queue":
            return False
        if verbs is None:  # silence, and the waitUrl again (Twilio's exact rule: unconfirmed)
            verbs = [Verb("Pause", {"length": str(WAIT_RETRY_S)})]
        call.in_wait, call.program, call.pc = True, verbs, 0
        return True

    def _v_leave(self, call: Call, verb: Verb) -> bool:
        if call.phase != "queue":
            return False
        self._left(call, "leave")
        return True

    def _out_of_line(self, call: Call) -> float:
        assert call.queue is not None
        line = self.members[self.queues[call.queue]]
        if call.sid in line:
            line.remove(call.sid)
        call.phase, call.in_wait = "ivr", False
        return self.now - call.queued_at

    def _left(self, call: Call, result: str) -> None:
        """The call left the queue alive (``<Leave>``, queue full): the Enqueue action's
        TwiML runs next (or the verbs after ``<Enqueue>``)."""
        waited = self._out_of_line(call) if call.queue else 0.0
        t = call.truth
        if t is not None and result == "leave":
            t.wait_s = self.now - t.entered_at
            if call.pressed:
                t.outcome, t.exit_key = "exit_key", call.pressed
            else:
                t.outcome = "timeout" if self.logged_in(t.queue, self.now) else "exit_empty"
        action = call.enqueue.attrs.get("action") if call.enqueue else None
        if not action:
            self._run(call, call.after_enqueue)
            return
        verbs = self._fetch(call, action, self._enqueue_params(call, result, waited),
                            "enqueue")
        if verbs is not None:
            self._run(call, verbs)

    def _enqueue_params(self, call: Call, result: str, waited: float) -> dict[str, str]:
        return {"QueueResult": result, "QueueSid": self.queues.get(call.queue or "", ""),
                "QueueTime": str(int(waited))}

    def _impatient(self, call: Call) -> None:
        """The caller's patience ran out while waiting or while an agent's phone rang."""
        if call.ended is None and call.phase in ("queue", "ringing"):
            self._hang_up(call, "caller")

    # ---- the agent's leg ---------------------------------------------------------------------

    def _v_dial(self, call: Call, verb: Verb) -> bool:
        noun = next((n for n in verb.children if n.name in ("Client", "Number", "Queue")), None)
        if noun is None:
            return False
        to = noun.text
        agent = next((a for a in self.agents.values()
                      if (noun.name == "Client" and a.identity == to)
                      or (noun.name == "Number" and a.number and a.number == to)), None)
        leg = Leg(f"CA{self.rng.getrandbits(128):032x}", to, agent, dict(verb.attrs),
                  dict(noun.attrs), self.now)
        call.leg, call.phase = leg, "ringing"
        timeout = float(verb.attrs.get("timeout", DEFAULT_DIAL_TIMEOUT_S))
        if noun.name == "Number" and agent is None:
            ring: float | None = 2.0  # an outside number (a referral) answers
        else:
            ring = None if agent is None or agent.ring_s is None else draw(agent.ring_s,
                                                                           self.rng)
        if ring is not None and ring < timeout:
            self._later(call, ring, lambda: self._answered(call, leg))
        else:
            self._later(call, timeout, lambda: self._dial_over(call, leg, "no-answer"))
        return True

    def _leg_params(self, call: Call, leg: Leg, status: str) -> dict[str, str]:
        return {"CallSid": leg.sid, "ParentCallSid": call.sid, "CallStatus": status,
                "From": call.plan.from_number, "To": leg.to, "Direction": "outbound-dial",
                "SequenceNumber": str(next(call.sequence))}

    def _answered(self, call: Call, leg: Leg) -> None:
        call.phase, leg.answered = "bridged", self.now
        t = call.truth
        if t is not None:
            t.outcome, t.agent = "answered", leg.agent.agent if leg.agent else None
            t.wait_s = self.now - t.entered_at
        events = leg.noun.get("statusCallbackEvent", "").split()
        callback = leg.noun.get("statusCallback")
        if callback and "answered" in events and "leg" not in call.plan.late:
            self._send("leg", call, callback, self._leg_params(call, leg, "in-progress"), 1)
        if call.plan.transfer is not None and leg.agent is not None and len(call.truths) == 1:
            after, to = call.plan.transfer  # the agent's desktop transfer (agent_hook)
            self._later(call, after, partial(self.agent_hook, "transfer", leg.agent.agent,
                                             None, to))
        agent_talk = (draw(leg.agent.talk_s, self.rng) if leg.agent else OUTSIDE_TALK_S)
        caller_talk = call.plan.talk_s
        if caller_talk is not None and caller_talk < agent_talk:
            self._later(call, caller_talk, lambda: self._hang_up(call, "caller"))
        else:
            self._later(call, agent_talk, lambda: self._dial_over(call, leg, "completed"))

    def _dial_over(self, call: Call, leg: Leg, status: str, caller_there: bool = True) -> None:
        """The Dial verb ends (the agent hung up, or let it ring): its action runs."""
        leg.ended = self.now
        call.leg = None
        duration = int(self.now - leg.answered) if leg.answered is not None else 0
        t = call.truth
        if t is not None and leg.answered is not None and t.outcome == "answered":
            t.talk_s = self.now - leg.answered
            t.hangup_side = "agent" if caller_there else "caller"
        elif t is not None and leg.agent is not None and status == "no-answer":
            t.rang.append((leg.agent.agent, self.now - leg.started))
        if not caller_there:
            call.status = "completed"
        call.phase = "ivr"
        params = {"DialCallStatus": status, "DialCallSid": leg.sid,
                  "DialCallDuration": str(duration)}
        action = leg.attrs.get("action")
        verbs = self._fetch(call, action, params, "dial") if action else call.program[call.pc:]
        if leg.answered is not None and "leg" in call.plan.late:
            callback = leg.noun.get("statusCallback")
            if callback:
                self._send("leg", call, callback, self._leg_params(call, leg, "in-progress"))
        if leg.answered is not None and leg.attrs.get("record", "").startswith("record-from"):
            self._recording(call, leg, duration)
        if caller_there and verbs is not None and call.ended is None:
            self._run(call, verbs)

    def _recording(self, call: Call, leg: Leg, seconds: int) -> None:
        sid = f"RE{self.rng.getrandbits(128):032x}"
        self.recordings[sid] = (call.sid, float(seconds))
        callback = leg.attrs.get("recordingStatusCallback")
        if callback:
            form = {"CallSid": call.sid, "RecordingSid": sid, "RecordingStatus": "completed",
                    "RecordingUrl": f"{self.api_base}{API}/{self.account_sid}/Recordings/{sid}",
                    "RecordingDuration": str(seconds), "RecordingChannels": "2",
                    "RecordingSource": "DialVerb"}
            self.at(self.now + 1, lambda: None if self._send("recording", call, callback,
                                                             form, 1) else None)

    def _hang_up(self, call: Call, side: str) -> None:
        """The call ends: ``side`` caller (the resident hung up), twiml (civic311's
        ``<Hangup>`` or the end of its TwiML) or error."""
        if call.ended is not None:
            return
        t = call.truth
        if call.phase == "queue":
            waited = self._out_of_line(call)
            if t is not None and not t.outcome:
                t.outcome, t.wait_s = "abandoned", self.now - t.entered_at
            call.ended, call.status = self.now, "completed"
            action = call.enqueue.attrs.get("action") if call.enqueue else None
            if action:
                self._send("enqueue", call, action, {**self._call_params(call),
                                                     **self._enqueue_params(call, "hangup",
                                                                            waited)}, 1)
        elif call.phase in ("ringing", "bridged") and call.leg is not None:
            leg = call.leg
            if t is not None and call.phase == "ringing" and not t.outcome:
                t.outcome, t.wait_s = "abandoned", self.now - t.entered_at
            call.ended, call.status = self.now, "completed"
            self._dial_over(call, leg, "completed" if call.phase == "bridged" else "canceled",
                            caller_there=False)
        elif t is None and call.plan.queue is not None and side == "twiml":
            t = Truth(call.sid, 1, call.plan.queue, self.now, "refused")  # never queued
            call.truths.append(t)
        elif call.transferred_to and side == "twiml":  # the transfer's queue refused them
            call.truths.append(Truth(call.sid, len(call.truths) + 1, call.transferred_to,
                                     self.now, "refused"))
        elif t is not None and not t.outcome:  # dropped between a queue and an agent
            t.outcome, t.wait_s = "abandoned", self.now - t.entered_at
        call.ended, call.status, call.phase = self.now, "completed", "ended"
        self._send("status", call, STATUS_URL, {
            **self._call_params(call), "CallDuration": str(int(self.now - call.started)),
            "Timestamp": self.when().strftime("%a, %d %b %Y %H:%M:%S +0000"),
            "SequenceNumber": str(next(call.sequence))}, 1)

    # ---- what civic311 asks by REST (rest.py) -----------------------------------------------

    def dequeue(self, qsid: str, call_sid: str, url: str, method: str) -> bool:
        """Queue Member update: the caller leaves the queue for ``url``; False if it is not
        in that queue (Twilio's 404)."""
        with self.lock:
            call = self.calls.get(call_sid)
            if call is None or call_sid not in self.members.get(qsid, []):
                return False
            call.epoch += 1  # whatever the waitUrl was doing stops
            waited = self._out_of_line(call)
            self.at(self.now, lambda: self._redirected(call, url, waited))
            return True

    def _redirected(self, call: Call, url: str, waited: float) -> None:
        action = call.enqueue.attrs.get("action") if call.enqueue else None
        if action:  # Twilio tells the Enqueue action; the call goes on at ``url``
            self._send("enqueue", call, action, {**self._call_params(call),
                                                 **self._enqueue_params(call, "redirected",
                                                                        waited)}, 1)
        verbs = self._fetch(call, url, {"QueueSid": self.queues.get(call.queue or "", ""),
                                        "QueueTime": str(int(waited))})
        if verbs is not None and call.ended is None:
            self._run(call, verbs)

    def redirect(self, call_sid: str, url: str, status: str) -> bool:
        """Call update: run ``url``'s TwiML now (``status`` completed: hang up); False when
        the call is not in progress (Twilio's 400, error 21220)."""
        with self.lock:
            call = self.calls.get(call_sid)
            if call is None or call.ended is not None:
                return False
            call.epoch += 1
            self.at(self.now, lambda: self._update(call, url, status))
            return True

    def _update(self, call: Call, url: str, status: str) -> None:
        if call.ended is not None:
            return
        if status == "completed":
            self._hang_up(call, "twiml")
            return
        if call.phase == "queue":
            self._out_of_line(call)
        elif call.leg is not None:  # the agent's leg hangs up; the Dial action is not run
            leg, call.leg = call.leg, None
            leg.ended = self.now
            t = call.truth
            if t is not None and leg.answered is not None:
                t.talk_s, t.hangup_side = self.now - leg.answered, "transfer"
            kind, _, target = (call.plan.transfer or (0.0, ""))[1].partition(":")
            call.transferred_to = target if kind == "queue" else None
            call.phase = "ivr"
        verbs = self._fetch(call, url, {})
        if verbs is not None:
            self._run(call, verbs)

    def call_resource(self, call_sid: str) -> dict[str, object] | None:
        """The Call resource's fields civic311 reads (``GET .../Calls/CA....json``)."""
        with self.lock:
            call = self.calls.get(call_sid)
            if call is None:
                return None
            return {"sid": call.sid, "status": call.status, "direction": call.direction,
                    "from": call.plan.from_number, "to": "+13115550311",
                    "start_time": _rfc2822(self.when(call.started)),
                    "end_time": _rfc2822(self.when(call.ended)) if call.ended else None,
                    "duration": (str(int(call.ended - call.started))
                                 if call.ended is not None else None)}

    def queue_members(self, qsid: str) -> list[dict[str, object]] | None:
        with self.lock:
            if qsid not in self.members:
                return None
            return [{"call_sid": sid, "position": i + 1, "queue_sid": qsid,
                     "wait_time": int(self.now - self.calls[sid].queued_at),
                     "date_enqueued": _rfc2822(self.when(self.calls[sid].queued_at))}
                    for i, sid in enumerate(self.members[qsid])]

    def hang_up_all(self) -> int:
        """Every caller still on the line hangs up now (the demo stops); how many."""
        with self.lock:
            live = [c for c in self.calls.values() if c.ended is None]
            for call in live:
                self._hang_up(call, "caller")
            self.timers.clear()
            return len(live)

    def truths(self) -> list[Truth]:
        """Every queue entry of every call so far, by call start and leg."""
        with self.lock:
            return [t for c in sorted(self.calls.values(), key=lambda c: (c.started, c.sid))
                    for t in c.truths]


def _rfc2822(at: datetime) -> str:
    return at.strftime("%a, %d %b %Y %H:%M:%S +0000")
