"""Hold and attended (consult) transfers on the Twilio ACD: Twilio holds a call, and adds a
third party to it, only in a Conference, so a connected call that needs either moves into one.

When: at its first hold or consult, not at every answer. Every other call keeps the
``<Dial><Client>`` bridge the ACD connects with (``twiml_web``): its ring-no-answer from the
Dial's action, its answered callback, its dual-channel recording and the survey after the
agent hangs up work and are tested as they are, and most calls are never held. Twilio Flex
puts every call in a conference from the start because its orchestration owns the ringing;
here that would re-plumb all of it for the few calls that hold. The price: the first hold
takes effect a second or two after the click (the move), and the Dial's recording ends at
the move: the room is recorded from its start for the rest (``conference_web.room_dial``,
``recordings/twilio_rooms.py``). Should the agent hang up just before their leg is moved,
Twilio refuses the redirect and the caller, already sent on to the room, finds it ended
(``move_failed``) rather than waiting there alone.

The move is Twilio's documented way out of a ``<Dial>``: the agent's leg (the Dial's child
call) is redirected by REST to TwiML joining room ``civic311-<entry>``; the caller's Dial then
ends and its action (``twiml_web.dialed``) answers the caller with the same room. Once the
caller has joined (the room's ``participant-join``), what the agent asked meanwhile is done:

- hold: the caller's participant updated ``Hold=true`` (``HoldUrl``: music), ``false`` to
  resume; the record's hold counts from Twilio's ``participant-hold`` to its
  ``participant-unhold`` or the call's end (``acd.events.CallHeld``, as AMI's Hold/Unhold);
- attended transfer: the caller on hold, the agent's participant ``EndConferenceOnExit=false``
  (so the agent may leave without ending the room), and the target added as a participant
  (``From``/``To``). The agent leaving while the target talks completes it (hang-up, or the
  desktop's Complete: the agent's participant removed): the caller comes off hold talking
  to the target (whose ``EndConferenceOnExit`` turns true), the record transferred
  ``attended`` to the target, hang-up side ``transfer``. The target hanging up, not
  answering, or the desktop's Cancel (the target's participant removed) cancels it: the
  caller comes off hold talking to the agent again.

The consulted agent (a target ``agent-<ext>``) is busy from the consult's start until their
leg leaves (``consulted``): the dispatcher offers them no queued caller meanwhile.

Every REST call goes into the ACD's outbox (``TwilioRequest``, retried by ``dispatch_jobs``).
Every conference callback changes state only from the state it expects, so a duplicate or
a late one (Twilio retries) changes nothing twice.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd import live_store
from acd import transfer as names
from acd import twilio_events as tw
from acd.recorder import apply_events
from acd.states import TransferKind
from acd.twilio_acd import consulted
from acd.twilio_acd import queries as q
from acd.twilio_acd.models import TwilioEntry, TwilioRequest
from acd.twilio_acd.transfers import target_query

ROOM_PATH = "/twilio/acd/room"  # the TwiML joining a call to its entry's room
EVENTS_PATH = "/twilio/acd/conference"  # the room's statusCallback
CONSULT_PATH = "/twilio/acd/consult"  # the consult target's call status
HELD_PATH = "/twilio/acd/held"  # the HoldUrl: music while on hold
CONSULT_RING_S = 30
MOVING, READY, STRANDED = "moving", "ready", "stranded"
ASKED, RINGING, TALKING, CANCELLED = "asked", "ringing", "talking", "cancelled"
NOT_ANSWERED = frozenset({"no-answer", "busy", "failed", "canceled", "completed"})


def room(entry_id: int) -> str:
    """The conference's friendly name of an entry's call."""
    return f"civic311-{entry_id}"


def _request(s: Session, path: str, form: dict[str, str], now: datetime,
             kind: str = "participant", method: str = "POST") -> None:
    s.add(TwilioRequest(kind=kind, entry_id=None, offer=0, method=method, path=path,
                        form=json.dumps(form), status="pending", next_attempt_at=now,
                        created_at=now, last_error=""))


def _participant(e: TwilioEntry, sid: str) -> str:
    return f"Conferences/{e.conference_sid}/Participants/{sid}.json"


def _call(s: Session, agent: str) -> TwilioEntry:
    e = q.connected_call(s, agent)
    if e is None:
        raise live_store.CommandError(f"agent {agent} has no call")
    return e


def _move(s: Session, e: TwilioEntry, base: str, now: datetime) -> None:
    """Send the agent's leg to the room (the caller follows from the Dial's action)."""
    if not e.agent_leg:
        raise live_store.CommandError("the agent's call is not known yet; try again")
    e.room_state = MOVING
    _request(s, f"Calls/{e.agent_leg}.json",
             {"Url": f"{base}{ROOM_PATH}/{e.id}?side=agent", "Method": "POST"}, now, "room")


def _set_hold(s: Session, e: TwilioEntry, on: bool, base: str, now: datetime) -> None:
    form = {"Hold": "true" if on else "false"}
    if on:
        form.update(HoldUrl=f"{base}{HELD_PATH}", HoldMethod="POST")
    _request(s, _participant(e, e.uniqueid), form, now)


def hold(s: Session, agent: str, on: bool, base: str, now: datetime) -> str:
    """The agent holds (``on``) or resumes their caller; raises CommandError."""
    e = _call(s, agent)
    if e.consult_state in (RINGING, TALKING):
        raise live_store.CommandError("the caller is on hold for the consult: complete or "
                                      "cancel it")
    if e.hold_wanted == on:
        return "on hold" if on else "not on hold"
    e.hold_wanted = on
    if e.room_state == "":
        _move(s, e, base, now)
    elif e.room_state == READY:
        _set_hold(s, e, on, base, now)
    return "holding" if on else "resuming"


def consult(s: Session, agent: str, exten: str, caller_id: str, base: str,
            now: datetime) -> str:
    """Start the agent's attended transfer to ``exten`` (``acd.transfer.attended_exten``'s
    digits, as the desktop's command carries them); raises CommandError."""
    target = names.target_of(f"Local/{exten}@{names.ATXFER_CONTEXT}")
    target_query(target)  # reachable on Twilio, else CommandError
    e = _call(s, agent)
    if e.consult_state in (ASKED, RINGING, TALKING):
        raise live_store.CommandError("a consult is already under way")
    if e.consult_state == CANCELLED:  # its answer would be taken for the new target's
        raise live_store.CommandError("the cancelled consult's target is still ringing; "
                                      "try again in a moment")
    consulted.claim(s, e, target, now)  # busy from now (CommandError: busy already)
    e.consult, e.consult_state, e.consult_leg = target, ASKED, None
    if e.room_state == "":
        _move(s, e, base, now)
    elif e.room_state == READY:
        _dial_target(s, e, caller_id, base, now)
    return f"consulting {target}"


def _dial_target(s: Session, e: TwilioEntry, caller_id: str, base: str, now: datetime) -> None:
    query = target_query(e.consult or "")
    to = query.get("number") or f"client:agent{query.get('agent', '')}"  # twiml_web.identity
    if not e.held_since and not e.hold_wanted:
        _set_hold(s, e, True, base, now)
    e.hold_wanted = True
    _request(s, _participant(e, e.agent_leg or ""), {"EndConferenceOnExit": "false"}, now)
    _request(s, f"Conferences/{e.conference_sid}/Participants.json",
             {"From": caller_id, "To": to, "Timeout": str(CONSULT_RING_S),
              "EndConferenceOnExit": "false", "StartConferenceOnEnter": "true",
              "Beep": "false", "EarlyMedia": "true",
              "StatusCallback": f"{base}{CONSULT_PATH}/{e.id}",
              "StatusCallbackEvent": "completed", "StatusCallbackMethod": "POST"}, now)
    e.consult_state = RINGING


def complete(s: Session, agent: str, now: datetime) -> str:
    """The desktop's Complete: the agent leaves the room (their participant removed)."""
    e = _call(s, agent)
    if e.consult_state != TALKING:
        raise live_store.CommandError("no consult to complete: the target has not answered")
    _request(s, _participant(e, e.agent_leg or ""), {}, now, method="DELETE")
    return f"handing over to {e.consult}"


def cancel(s: Session, agent: str, base: str, now: datetime) -> str:
    """The desktop's Cancel: the target leaves (removed, or when they join) and the caller
    comes back to the agent."""
    e = _call(s, agent)
    if e.consult_state not in (ASKED, RINGING, TALKING):
        raise live_store.CommandError("no consult to cancel")
    if e.consult_state == TALKING and e.consult_leg:
        _request(s, _participant(e, e.consult_leg), {}, now, method="DELETE")
    _end_consult(s, e, base, now, CANCELLED if e.consult_state == RINGING else "")
    return "consult cancelled"


def _end_consult(s: Session, e: TwilioEntry, base: str, now: datetime, state: str) -> None:
    """Back to the caller: off hold, the agent's leaving ends the room again."""
    was = e.consult_state
    e.consult_state, e.consult_leg = state, None
    if was == ASKED or e.room_state != READY:
        return
    e.hold_wanted = False
    _set_hold(s, e, False, base, now)
    _request(s, _participant(e, e.agent_leg or ""), {"EndConferenceOnExit": "true"}, now)


def event(s: Session, entry_id: int, kind: str, call_sid: str, conference_sid: str,
          caller_id: str, base: str, now: datetime, wrapup_s: int, seq: int | None = None,
          stamped: datetime | None = None) -> None:
    """One of the room's statusCallback events (Twilio's ``StatusCallbackEvent``, its
    ``SequenceNumber`` and ``Timestamp``)."""
    e = s.get(TwilioEntry, entry_id)
    if e is None or e.room_state == "":
        return
    if conference_sid.startswith("CF") and e.conference_sid is None:
        e.conference_sid = conference_sid[:64]
    if kind == "conference-end" and e.room_ended_at is None:
        e.room_ended_at = now  # the room's recording is on its way (recordings/twilio_rooms)
    if kind == "conference-end" or (kind == "participant-leave" and e.consult_leg
                                    and call_sid == e.consult_leg):
        consulted.free(s, e, now)  # the consulted agent left (handed over or not)
    if kind == "participant-join":
        _joined(s, e, call_sid, caller_id, base, now)
    elif kind in ("participant-hold", "participant-unhold") and call_sid == e.uniqueid:
        _held(s, e, kind == "participant-hold", now,
              e.hold_seq + 1 if seq is None else seq, stamped or now)
    elif kind == "participant-leave" and e.state == q.CONNECTED:
        _left(s, e, call_sid, base, now, wrapup_s)


def _joined(s: Session, e: TwilioEntry, call_sid: str, caller_id: str, base: str,
            now: datetime) -> None:
    if call_sid == e.uniqueid and e.room_state == STRANDED:  # nobody is coming: end it
        e.room_state = READY
        _request(s, f"Conferences/{e.conference_sid}.json", {"Status": "completed"}, now)
    elif call_sid == e.uniqueid and e.room_state == MOVING and e.state == q.CONNECTED:
        e.room_state = READY  # what the agent asked while the call moved
        if e.consult_state == ASKED:
            _dial_target(s, e, caller_id, base, now)
        elif e.hold_wanted:
            _set_hold(s, e, True, base, now)
    elif call_sid not in (e.uniqueid, e.agent_leg):  # the consult's target answered
        if e.consult_state == RINGING:
            e.consult_state, e.consult_leg = TALKING, call_sid[:64]
            consulted.answered(s, e, now)
        elif e.consult_state == CANCELLED and e.consult_leg != call_sid:  # cancelled while
            e.consult_leg = call_sid[:64]  # it rang: removed now (once)
            _request(s, _participant(e, call_sid), {}, now, method="DELETE")


def _held(s: Session, e: TwilioEntry, on: bool, now: datetime, seq: int,
          stamped: datetime) -> None:
    """Twilio's participant-hold / -unhold of the caller, in SequenceNumber order: a repeat
    or an older one changes nothing, except the hold whose unhold came first, which counts
    between the two events' Timestamps (Twilio's clock: the only one that saw both)."""
    if e.state != q.CONNECTED:
        return
    if seq <= e.hold_seq:
        if on and seq < e.hold_seq and e.unheld_at is not None:  # it crossed its unhold
            apply_events(s, [tw.held(stamped, e.uniqueid, True),
                             tw.held(e.unheld_at, e.uniqueid, False)])
            e.unheld_at = None
        return
    e.hold_seq = seq
    if on and e.held_since is None:
        apply_events(s, [tw.held(now, e.uniqueid, True)])
        e.held_since, e.unheld_at = now, None
    elif not on and e.held_since is not None:
        apply_events(s, [tw.held(now, e.uniqueid, False)], q.open_hold(e))
        e.held_since = None
    elif not on:  # its hold is still on its way
        e.unheld_at = stamped


def _left(s: Session, e: TwilioEntry, call_sid: str, base: str, now: datetime,
          wrapup_s: int) -> None:
    if call_sid == e.uniqueid:  # the caller hung up
        q.complete(s, e, now, None, "caller", wrapup_s)
    elif call_sid == e.agent_leg and e.consult_state == TALKING:  # handed over
        target = e.consult or ""
        _request(s, _participant(e, e.consult_leg or ""), {"EndConferenceOnExit": "true"},
                 now)
        _set_hold(s, e, False, base, now)
        q.transferred(s, e, target, now, wrapup_s, TransferKind.ATTENDED)
    elif call_sid == e.agent_leg:  # the agent hung up (the room ends with them)
        if e.consult_state == RINGING:  # nobody to hand over to yet: the room ends
            _request(s, f"Conferences/{e.conference_sid}.json", {"Status": "completed"}, now)
        q.complete(s, e, now, None, "agent", wrapup_s)
    elif call_sid == e.consult_leg:  # the target hung up: back to the caller
        _end_consult(s, e, base, now, "")


def move_failed(s: Session, agent_leg: str, now: datetime) -> None:
    """Twilio refused to move the agent's leg (it was not in progress: the agent hung up just
    before): the caller, whom the Dial's action sent to the room, must not wait there alone,
    so the room ends as soon as it is known (its end is the agent's hang-up on the record)."""
    e = s.scalar(select(TwilioEntry).where(TwilioEntry.agent_leg == agent_leg)
                 .order_by(TwilioEntry.id.desc()).limit(1))
    if e is None or e.room_state != MOVING:
        return
    e.room_state = STRANDED
    if e.conference_sid:  # the caller is in it already
        e.room_state = READY
        _request(s, f"Conferences/{e.conference_sid}.json", {"Status": "completed"}, now)


def target_ended(s: Session, entry_id: int, status: str, base: str, now: datetime) -> None:
    """The consult target's call ended (its status callback): unanswered, it cancels the
    consult (an answered one ends through the room's participant-leave)."""
    e = s.get(TwilioEntry, entry_id)
    if e is None or status not in NOT_ANSWERED:
        return
    consulted.free(s, e, now)  # their call is over, whatever became of the consult
    if e.consult_state == RINGING and e.state == q.CONNECTED:
        _end_consult(s, e, base, now, "")
    elif e.consult_state == CANCELLED:
        e.consult_state = ""


def room_over(s: Session, e: TwilioEntry, caller_there: bool, now: datetime,
              wrapup_s: int) -> str | None:
    """The caller's Dial into the room ended (its action): what ended the call, if the
    room's leave callbacks have not said it yet (the agent when the caller is still there)."""
    if e.state != q.CONNECTED:
        return None
    side = "agent" if caller_there else "caller"
    q.complete(s, e, now, None, side, wrapup_s)
    return side
