"""Twilio's conferences in the simulator (``Rooms``, between ``verbs.Verbs`` and ``cloud.Sim``).

- A bridged call's agent leg redirected by REST (``Calls/<leg>.json``, ``Url``) leaves the
  ``<Dial>``: it runs the new TwiML, and the caller's Dial action runs (``completed``);
- ``<Dial><Conference>`` joins a room (``startConferenceOnEnter``, ``endConferenceOnExit``,
  ``statusCallback`` and ``statusCallbackEvent`` of the first to join, as Twilio keeps them);
- the Participants resource (``rest.py``): update (``Hold``, ``HoldUrl``,
  ``EndConferenceOnExit``), create (a call to ``To`` that joins when it answers; its
  ``StatusCallback`` hears ``completed`` or ``no-answer``), delete (the participant leaves);
  a Conference update ``Status=completed`` ends the room;
- the room's statusCallback events in Twilio's shape (``StatusCallbackEvent``
  conference-start|end, participant-join|leave|hold|unhold, with ``ConferenceSid``,
  ``FriendlyName``, ``CallSid``, ``Hold``, ``Muted``, ``EndConferenceOnExit``,
  ``StartConferenceOnEnter``, ``SequenceNumber``, ``Timestamp``), signed as every webhook;
  a room ends when a participant with ``endConferenceOnExit`` leaves, or the last one does;
- ``record="record-from-start"`` (of the first to join, as the status callback) records the
  room from its start to its end, one channel (Twilio mixes a conference), and its
  ``recordingStatusCallback`` hears ``completed`` a second after the end with
  ``ConferenceSid``, ``RecordingSid``, ``RecordingUrl``, ``RecordingStatus``,
  ``RecordingDuration``, ``RecordingChannels`` 1, ``RecordingStartTime`` and
  ``RecordingSource`` ``Conference`` (no ``CallSid``: a room is nobody's call).

An agent's device rung while it has a call is noted in ``double_booked`` (``devices``).

The caller's plan (``hold``, ``consult``) is the agent's desktop (the composition root's
hook). Truth: hold counts from Twilio's hold of the caller to the unhold or the end of the
agent's talk; the agent's talk ends when they leave; leaving with the consult's target in
the room is the attended transfer (hang-up side ``transfer``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from telephony.twilio_sim import devices
from telephony.twilio_sim.calls import Call, Leg
from telephony.twilio_sim.scenario import AgentPlan, draw
from telephony.twilio_sim.twiml import Verb
from telephony.twilio_sim.verbs import API, OUTSIDE_TALK_S, Verbs

OUTSIDE_ANSWER_S = 2.0
SHORT = {"conference-start": "start", "conference-end": "end", "participant-join": "join",
         "participant-leave": "leave", "participant-hold": "hold", "participant-unhold": "hold"}


@dataclass
class Part:
    sid: str
    role: str  # caller | agent | target
    leg: Leg | None  # the agent's or the target's call
    end_on_exit: bool
    hold: bool = False
    action: str = ""  # the caller's Dial action
    status_url: str = ""  # a created participant's StatusCallback


@dataclass
class Room:
    name: str
    sid: str
    owner: Call  # the queued caller whose call it is
    status_url: str
    events: frozenset[str]
    parts: dict[str, Part] = field(default_factory=dict)
    late: dict[str, str] | None = None  # a participant-hold held back (the plan's late)
    recording: str = ""  # its recordingStatusCallback when it is recorded
    started: float = 0.0
    seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    over: bool = False


class Rooms(Verbs):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rooms: dict[str, Room] = {}  # by friendly name (the newest of that name)
        self.target_rings: dict[str, str] = {}  # a consult's leg ringing -> its agent
        self.double_booked: list[tuple[float, str, str]] = []  # (at, agent, leg or call)

    def _ring(self, agent: AgentPlan | None, sid: str) -> None:
        in_rooms = (p.leg for r in self.rooms.values() if not r.over for p in r.parts.values())
        if agent is not None and devices.busy(agent.agent, self.calls.values(), in_rooms,
                                              self.target_rings):
            self.double_booked.append((self.now, agent.agent, sid))

    def _room(self, key: str) -> Room | None:
        return self.rooms.get(key) or next((r for r in self.rooms.values() if r.sid == key),
                                           None)

    # ---- the plan: the agent's desktop -----------------------------------------------------

    def _plan_room(self, call: Call, leg: Leg) -> None:
        plan, agent = call.plan, leg.agent
        if agent is None or len(call.truths) != 1:
            return
        for after, hold_s in plan.hold:
            self.at(self.now + after, partial(self._desk, call, "hold", agent.agent, ""))
            self.at(self.now + after + hold_s, partial(self._desk, call, "unhold",
                                                       agent.agent, ""))
        if plan.consult is not None:
            call.consult_done = False
            self.at(self.now + plan.consult.after,
                    partial(self._desk, call, "consult", agent.agent, plan.consult.to))

    def _desk(self, call: Call, action: str, agent: str, target: str) -> None:
        if call.ended is None:
            self.agent_hook(action, agent, None, target)

    # ---- a leg out of its Dial, into a room -------------------------------------------------

    def leg_redirect(self, leg_sid: str, url: str) -> bool:
        """REST update of a bridged call's agent leg; False when no such leg is live."""
        call = next((c for c in self.calls.values() if c.leg is not None
                     and c.leg.sid == leg_sid and c.phase == "bridged" and c.ended is None),
                    None)
        if call is None or call.leg is None:
            return False
        leg = call.leg
        call.epoch += 1  # the bridge's timers stop
        self.at(self.now, lambda: self._leg_moved(call, leg, url))
        return True

    def _leg_moved(self, call: Call, leg: Leg, url: str) -> None:
        call.leg, call.phase = None, "moving"
        verbs = self._fetch(call, url, self._leg_params(call, leg, "in-progress"))
        dial = next((v for v in verbs or [] if v.name == "Dial"), None)
        if dial is not None:
            self._join(call, leg, "agent", dial)
        duration = int(self.now - (leg.answered or self.now))
        if leg.attrs.get("record", "").startswith("record-from"):
            self._recording(call, leg, duration)
        action = leg.attrs.get("action")
        if action:
            after = self._fetch(call, action, {"DialCallStatus": "completed",
                                               "DialCallSid": leg.sid,
                                               "DialCallDuration": str(duration)}, "dial")
            if after is not None and call.ended is None:
                self._run(call, after)

    def _v_dial(self, call: Call, verb: Verb) -> bool:
        if any(n.name == "Conference" for n in verb.children):
            self._join(call, None, "caller", verb)
            return True
        noun = next((n for n in verb.children if n.name in ("Client", "Number")), None)
        if noun is not None:
            self._ring(next((a for a in self.agents.values() if noun.text in (
                a.identity, a.number)), None), call.sid)
        return super()._v_dial(call, verb)

    def _join(self, call: Call, leg: Leg | None, role: str, dial: Verb,
              end_on_exit: bool | None = None, status_url: str = "") -> None:
        noun = next(n for n in dial.children if n.name == "Conference")
        room = self.rooms.get(noun.text)
        fresh = room is None or room.over
        if room is None or room.over:
            room = Room(noun.text, f"CF{self.rng.getrandbits(128):032x}", call,
                        noun.attrs.get("statusCallback", ""),
                        frozenset(noun.attrs.get("statusCallbackEvent", "").split()),
                        started=self.now)
            if noun.attrs.get("record") == "record-from-start":
                room.recording = noun.attrs.get("recordingStatusCallback", "") or " "
            self.rooms[noun.text] = room
        exits = (noun.attrs.get("endConferenceOnExit") == "true" if end_on_exit is None
                 else end_on_exit)
        part = Part(leg.sid if leg else call.sid, role, leg, exits,
                    action=dial.attrs.get("action", ""), status_url=status_url)
        room.parts[part.sid] = part
        if fresh:
            self._event(room, "conference-start")
        self._event(room, "participant-join", part)
        if role == "caller":
            call.phase, call.room = "room", room.name
            t = call.truth
            if call.plan.talk_s is not None and t is not None:
                answered = t.entered_at + t.wait_s
                self.at(max(self.now, answered + call.plan.talk_s),
                        lambda: self._hang_up(call, "caller") if call.room == room.name
                        and call.ended is None else None)
        elif role == "agent" and leg is not None:
            self.at(max(self.now, leg.hangup_at or self.now), partial(self._agent_done, room,
                                                                      part))

    def _agent_done(self, room: Room, part: Part) -> None:
        """The agent's talk is over by their plan (a consult under way waits for its end)."""
        if part.sid not in room.parts or room.over:
            return
        if not room.owner.consult_done:
            self.at(self.now + 1, partial(self._agent_done, room, part))
            return
        self._leave(room, part)

    # ---- the room's events ------------------------------------------------------------------

    def _event(self, room: Room, kind: str, part: Part | None = None) -> None:
        if SHORT[kind] not in room.events or not room.status_url:
            return
        form = {"ConferenceSid": room.sid, "FriendlyName": room.name,
                "StatusCallbackEvent": kind, "SequenceNumber": str(next(room.seq)),
                "Timestamp": self.when().strftime("%a, %d %b %Y %H:%M:%S +0000")}
        if part is not None:
            form.update(CallSid=part.sid, Hold=str(part.hold).lower(), Muted="false",
                        Coaching="false", EndConferenceOnExit=str(part.end_on_exit).lower(),
                        StartConferenceOnEnter="true")
        if kind == "participant-hold" and "conference" in room.owner.plan.late:
            room.late = form  # it arrives after the next event (Twilio's may cross)
            return
        self._send("conference", room.owner, room.status_url, form, 1)
        if room.late is not None:
            late, room.late = room.late, None
            self._send("conference", room.owner, room.status_url, late, 1)

    def _close_hold(self, call: Call) -> None:
        t = call.truth
        if call.held_at is not None and t is not None:
            t.hold_s += self.now - call.held_at
        call.held_at = None

    def _leave(self, room: Room, part: Part, caller_gone: bool = False) -> None:
        """``part`` leaves the room; the room ends when it was to end it, or was the last."""
        if room.parts.pop(part.sid, None) is None:
            return
        call, t = room.owner, room.owner.truth
        agent_there = any(p.role == "agent" for p in room.parts.values())
        if t is not None and t.talk_s is None and (part.role == "agent" or (
                part.role == "caller" and agent_there)):
            t.talk_s = self.now - (t.entered_at + t.wait_s)
            self._close_hold(call)
            consult = call.plan.consult
            if part.role == "caller":
                t.hangup_side = "caller"
            elif consult and any(p.role == "target" for p in room.parts.values()):
                t.hangup_side, t.transfer_target = "transfer", consult.to
                t.transfer_kind = "attended"
            else:
                t.hangup_side = "agent"
        self._event(room, "participant-leave", part)
        if part.role == "target" and part.status_url:
            self._send("leg", call, part.status_url, {
                "CallSid": part.sid, "CallStatus": "completed", "To": part.leg.to
                if part.leg else "", "Direction": "outbound-api"}, 1)
        if part.role == "caller" and not caller_gone:
            self._caller_out(room, part)
        if not room.over and (part.end_on_exit or not room.parts):
            self._end(room)

    def _end(self, room: Room) -> None:
        """The room ends: everyone still in it leaves, then conference-end."""
        room.over = True
        for other in list(room.parts.values()):
            self._leave(room, other)
        self._event(room, "conference-end")
        if room.recording:
            self._room_recorded(room)

    def _room_recorded(self, room: Room) -> None:
        sid, seconds = f"RE{self.rng.getrandbits(128):032x}", int(self.now - room.started)
        self.recordings[sid] = (room.owner.sid, float(seconds), 1)
        url = room.recording.strip()
        if not url:
            return
        form = {"ConferenceSid": room.sid, "RecordingSid": sid, "RecordingStatus": "completed",
                "RecordingUrl": f"{self.api_base}{API}/{self.account_sid}/Recordings/{sid}",
                "RecordingDuration": str(seconds), "RecordingChannels": "1",
                "RecordingStartTime": self.when(room.started).strftime(
                    "%a, %d %b %Y %H:%M:%S +0000"),
                "RecordingSource": "Conference"}
        self.at(self.now + 1, lambda: None if self._send("recording", room.owner, url, form,
                                                         1) else None)

    def _caller_out(self, room: Room, part: Part) -> None:
        """The room ended around the caller: their Dial's action runs."""
        call = room.owner
        call.room, call.phase = None, "after"
        call.after_keys = None if call.plan.survey_keys is None else list(call.plan.survey_keys)
        if part.action:
            self.at(self.now, lambda: self._after_room(call, part.action))

    def _after_room(self, call: Call, action: str) -> None:
        verbs = self._fetch(call, action, {"DialCallStatus": "completed"}, "dial")
        if verbs is not None and call.ended is None:
            self._run(call, verbs)

    def _hang_up(self, call: Call, side: str) -> None:
        room = self._room(call.room) if call.room else None
        if room is not None and call.ended is None:
            part = room.parts.get(call.sid)
            call.status, call.room, call.phase = "completed", None, "ivr"
            if part is not None:
                self._leave(room, part, caller_gone=True)
                if part.action:  # the Dial's action, then the end's status callback
                    self._fetch(call, part.action, {"DialCallStatus": "completed"}, "dial")
        super()._hang_up(call, side)

    # ---- the Participants and Conference resources (rest.py) -------------------------------

    def participant_update(self, conf: str, sid: str, form: dict[str, str]
                           ) -> dict[str, object] | None:
        with self.lock:
            room = self._room(conf)
            part = room.parts.get(sid) if room is not None and not room.over else None
            if room is None or part is None:
                return None
            if "EndConferenceOnExit" in form:
                part.end_on_exit = form["EndConferenceOnExit"] == "true"
            if "Hold" in form and (form["Hold"] == "true") != part.hold:
                part.hold = form["Hold"] == "true"
                if part.role == "caller":
                    call = room.owner
                    if part.hold and call.truth is not None and call.truth.talk_s is None:
                        call.held_at = self.now
                    elif not part.hold:
                        self._close_hold(call)
                self._event(room, "participant-hold" if part.hold else "participant-unhold",
                            part)
            return self._participant(room, part)

    def _participant(self, room: Room, part: Part) -> dict[str, object]:
        return {"call_sid": part.sid, "conference_sid": room.sid, "hold": part.hold,
                "end_conference_on_exit": part.end_on_exit, "status": "connected"}

    def participant_create(self, conf: str, form: dict[str, str]) -> dict[str, object] | None:
        """A call to ``To`` that joins the room when it answers (the consult's target)."""
        with self.lock:
            room = self._room(conf)
            if room is None or room.over:
                return None
            to = form.get("To", "")
            agent = next((a for a in self.agents.values()
                          if to in (f"client:{a.identity}", a.number)), None)
            leg = Leg(f"CA{self.rng.getrandbits(128):032x}", to, agent, {}, {}, self.now)
            self._ring(agent, leg.sid)
            if agent is not None:
                self.target_rings[leg.sid] = agent.agent
            ring = (OUTSIDE_ANSWER_S if agent is None else
                    None if agent.ring_s is None else draw(agent.ring_s, self.rng))
            timeout = float(form.get("Timeout", 30))
            exits = form.get("EndConferenceOnExit") == "true"
            status_url = form.get("StatusCallback", "")
            if ring is not None and ring < timeout:
                self.at(self.now + ring, partial(self._target_answers, room, leg, exits,
                                                 status_url))
            else:
                self.at(self.now + timeout, partial(self._target_missed, room, leg,
                                                    status_url))
            return {"call_sid": leg.sid, "conference_sid": room.sid, "status": "queued"}

    def _target_answers(self, room: Room, leg: Leg, exits: bool, status_url: str) -> None:
        call = room.owner
        if room.over:
            return self._target_missed(room, leg, status_url)
        self.target_rings.pop(leg.sid, None)
        leg.answered = self.now
        dial = Verb("Dial", {}, "", (Verb("Conference", {}, room.name),))
        self._join(call, leg, "target", dial, exits, status_url)
        part = room.parts[leg.sid]
        consult = call.plan.consult
        if consult is not None and not call.consult_done:
            self.at(self.now + consult.talk, partial(self._consult_end, room, consult.then))
        talk = draw(leg.agent.talk_s, self.rng) if leg.agent else OUTSIDE_TALK_S
        self.at(self.now + (consult.talk if consult else 0) + talk,
                lambda: self._leave(room, part) if part.sid in room.parts else None)
        return None

    def _target_missed(self, room: Room, leg: Leg, status_url: str) -> None:
        self.target_rings.pop(leg.sid, None)
        room.owner.consult_done = True
        if status_url:
            self._send("leg", room.owner, status_url, {"CallSid": leg.sid,
                                                       "CallStatus": "no-answer",
                                                       "To": leg.to}, 1)

    def _consult_end(self, room: Room, then: str) -> None:
        call = room.owner
        call.consult_done = True
        agent = next((p for p in room.parts.values() if p.role == "agent"), None)
        if room.over or agent is None or agent.leg is None or agent.leg.agent is None:
            return
        if then == "hangup":  # the agent hangs up their phone
            self._leave(room, agent)
        else:  # the desktop's Complete or Cancel
            self.agent_hook(then, agent.leg.agent.agent, None, "")

    def participant_delete(self, conf: str, sid: str) -> bool:
        with self.lock:
            room = self._room(conf)
            part = room.parts.get(sid) if room is not None else None
            if room is None or part is None:
                return False
            self.at(self.now, partial(self._leave, room, part))
            return True

    def conference_update(self, conf: str, status: str) -> dict[str, object] | None:
        with self.lock:
            room = self._room(conf)
            if room is None or room.over:
                return None
            if status == "completed":
                self.at(self.now, lambda: None if room.over else self._end(room))
            return {"sid": room.sid, "friendly_name": room.name,
                    "status": "completed" if status == "completed" else "in-progress"}
