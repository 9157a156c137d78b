"""Twilio's call engine running civic311's TwiML (``Verbs``, between ``engine.Engine`` and
``cloud.Sim``): ``<Gather>`` with the scenario's keys (the IVR's, the queue's, the post-call
survey's after the agent hung up), ``<Enqueue>`` and its waitUrl loop, ``<Leave>``, ``<Dial>``
and the agent's leg (ring, the ``answered`` callback, talk, the Dial action, the recording
callback), ``<Redirect>``, ``<Pause>``, ``<Hangup>``, and the end of a call (the Enqueue action,
then the ``completed`` status callback). Each handler returns True when the call now waits (a
timer or a REST request moves it on).
"""

from __future__ import annotations

import logging
from functools import partial

from telephony.twilio_sim.calls import Call, Leg, Truth
from telephony.twilio_sim.engine import Engine
from telephony.twilio_sim.scenario import draw
from telephony.twilio_sim.twiml import Verb

log = logging.getLogger(__name__)

STATUS_URL = "/twilio/status"  # the number's "call status changes" webhook
API = "/2010-04-01/Accounts"
MAX_QUEUE = 1000
DEFAULT_DIAL_TIMEOUT_S = 30
OUTSIDE_TALK_S = 20.0  # a number outside the center (a referral) answers and talks this long
WAIT_RETRY_S = 5  # a waitUrl that failed is requested again after this long
MAX_STEPS = 200  # TwiML verbs one call may run at one instant (a loop in civic311's TwiML)


class Verbs(Engine):
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
        elif call.phase == "after":  # the agent hung up and civic311 asks on (the survey)
            t = call.truth
            if t is not None and t.survey is None:
                t.survey = []
            keys = call.after_keys
            if keys is None or keys[:1] == ["hangup"]:
                self._later(call, 0.0, lambda: self._hang_up(call, "caller"))
                return True
            key = keys.pop(0) if keys else ""  # no keys left: silence
            if t is not None and t.survey is not None:
                t.survey.append(key)
            if key:
                self._later(call, 1.0, lambda: self._gathered(call, action, key))
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

    def _plan_room(self, call: Call, leg: Leg) -> None:
        """The agent's holds and consult (rooms.Rooms)."""

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
        leg.hangup_at = self.now + agent_talk
        self._plan_room(call, leg)
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
        call.phase = "after" if caller_there and leg.answered is not None else "ivr"
        call.after_keys = (None if call.plan.survey_keys is None
                           else list(call.plan.survey_keys))
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
        self.recordings[sid] = (call.sid, float(seconds), 2)
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
        self._send("status", call, call.status_url or STATUS_URL, {
            **self._call_params(call), "CallDuration": str(int(self.now - call.started)),
            "Timestamp": self.when().strftime("%a, %d %b %Y %H:%M:%S +0000"),
            "SequenceNumber": str(next(call.sequence))}, 1)
