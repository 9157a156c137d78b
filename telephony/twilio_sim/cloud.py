"""The simulated Twilio account (``Sim``): the scenario's agents log in and out through the
composition root's hook, its callers call the number (``/twilio/voice``) at their times,
and what civic311 asks by REST (``rest.py``) is done to the calls: a dequeue posts the
Enqueue action (``redirected``) and runs the given URL, a redirect runs it at once (ending
the agent's leg: a transfer; a redirect of the agent's leg moves the call into a
conference, ``rooms``), a ``GET`` reads a Call or a queue's members, a new Call
calls a resident back (the scenario's caller of that number answers after
``CALLBACK_ANSWER_S``). Every call ends with a ``Truth`` per queue entry: what happened, as
the simulator saw it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial

from telephony.twilio_sim.calls import Call, HttpTransport, Transport, Truth
from telephony.twilio_sim.engine import AgentHook
from telephony.twilio_sim.rooms import Rooms
from telephony.twilio_sim.scenario import AgentPlan, CallerPlan, Scenario, demo_caller

__all__ = ["AgentHook", "HttpTransport", "Sim", "Transport", "Truth"]

log = logging.getLogger(__name__)

VOICE_URL = "/twilio/voice"  # the number's "a call comes in" webhook
CALLBACK_ANSWER_S = 4.0  # a called-back resident answers after this long
DEMO_FIRST_CALL_S = 5.0


class Sim(Rooms):
    """The simulated Twilio account: its callers and agents play the scenario."""

    def __init__(self, scenario: Scenario, transport: Transport, public_base: str,
                 account_sid: str, auth_token: str, agent_hook: AgentHook | None = None,
                 epoch: datetime | None = None, seed: int = 311,
                 on_time: Callable[[datetime], None] | None = None) -> None:
        super().__init__(scenario, transport, public_base, account_sid, auth_token,
                         agent_hook, epoch, seed, on_time)
        for a in scenario.agents:
            self._plan_agent(a)
        for c in scenario.callers:
            self.at(c.at, partial(self.incoming, c))
        if scenario.demo is not None:  # the agents' log-ins go first
            self.at(DEMO_FIRST_CALL_S, self._next_demo_caller)

    def _plan_agent(self, a: AgentPlan) -> None:
        for q in a.queues:
            self.at(a.login_at, partial(self.agent_hook, "login", a.agent, q, ""))
        for p in a.pauses:
            self.at(p.at, partial(self.agent_hook, "pause", a.agent, None, p.reason))
            self.at(p.until, partial(self.agent_hook, "unpause", a.agent, None, ""))
        if a.logout_at is not None:
            self.at(a.logout_at, partial(self.agent_hook, "logout", a.agent, None, ""))

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

    # ---- what civic311 asks by REST (rest.py) -----------------------------------------------

    def place(self, to: str, from_number: str, url: str, status_callback: str) -> str:
        """A Call out (``Calls.json``): the scenario's caller of number ``to`` answers after
        ``CALLBACK_ANSWER_S`` and runs ``url``'s TwiML, waiting in line as long as it takes
        and hanging up when the agent does; a number nobody in the scenario has never
        answers (``no-answer`` after 30 s)."""
        with self.lock:
            sid = f"CA{self.rng.getrandbits(128):032x}"
            known = next((c.plan for c in reversed(self.calls.values())
                          if c.plan.from_number == to and c.direction == "inbound"), None)
            plan = CallerPlan(sid, self.now, to, (), known.queue if known else None,
                              survey_keys=known.survey_keys if known else None)
            call = Call(sid, plan, self.now, direction="outbound-api", status="queued",
                        status_url=status_callback, dialed_from=from_number)
            self.calls[sid] = call
            if known is None:
                self.at(self.now + 30, partial(self._unanswered, call))
            else:
                self.at(self.now + CALLBACK_ANSWER_S, partial(self._called_back, call, url))
        return sid

    def _called_back(self, call: Call, url: str) -> None:
        call.status = "in-progress"
        verbs = self._fetch(call, url, {})
        if verbs is not None:
            self._run(call, verbs)

    def _unanswered(self, call: Call) -> None:
        call.ended, call.status, call.phase = self.now, "no-answer", "ended"
        if call.status_url:
            self._send("status", call, call.status_url, {**self._call_params(call)}, 1)

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
            if call is None and status != "completed":  # an agent's leg (into a room)
                return self.leg_redirect(call_sid, url)
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
