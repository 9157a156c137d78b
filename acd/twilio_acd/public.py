"""What the IVR's Twilio webhooks (ivr/menu_twiml.py) ask of the Twilio ACD: the facade.

The IVR owns the words and the TwiML; these functions decide (join or refuse, wait on or
leave, an end of the queue leg) and record the facts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from acd.states import CallOutcome
from acd.twilio_acd import queries as q
from acd.twilio_acd import routing
from foundation.settings import Settings

__all__ = ["Room", "WaitView", "active", "caller_ended", "entry_known", "join", "left_queue",
           "moved_to_room", "press_key", "wait"]


@dataclass(frozen=True)
class WaitView:
    """One run of the waitUrl: what to say (``announce``: position and wait, once) and
    whether the caller leaves now (``leave``: the reason, recorded at the Enqueue action)."""

    queue: str
    ahead: int
    ready: int
    staffed: int
    wait_s: float
    announce: bool
    leave: CallOutcome | None
    pause_s: int


def active(settings: Settings) -> bool:
    """civic311 dispatches Twilio's queues (``telephony_backend = "twilio"``)."""
    return settings.telephony_backend == "twilio"


def join(s: Session, uniqueid: str, queue: str, caller_number: str | None,
         ivr_path: str | None, now: datetime, place_at: datetime | None = None) -> int | None:
    """Position in line, or None when the caller is refused (nobody to take the call);
    ``place_at``: a called-back resident's first arrival, their place in line."""
    return q.join(s, uniqueid, queue, caller_number, ivr_path, now, place_at)


def wait(s: Session, settings: Settings, uniqueid: str, queue_sid: str,
         now: datetime) -> WaitView | None:
    """The waitUrl's decision for the caller (None: not a caller the ACD knows)."""
    e = q.entry(s, uniqueid)
    if e is None:
        return None
    q.note_queue_sid(s, e, queue_sid)
    logged, _, ready = q.staffing(s, e.queue)
    wait_s = routing.whole_s(e.entered_at, now)
    timeout_s = next((d.timeout_s for d in settings.queues if d.name == e.queue), 600)
    leave = routing.must_leave(wait_s, timeout_s, logged) if e.state == q.WAITING else None
    if leave is not None and not q.leave(s, e, leave, None):
        leave = None
    announce = not e.announced and leave is None
    e.announced = True
    return WaitView(e.queue, q.ahead_of(s, e), ready, logged, wait_s, announce, leave,
                    routing.pause_s(wait_s, timeout_s))


def press_key(s: Session, uniqueid: str, key: str) -> bool:
    """A key pressed while waiting: the caller leaves with it (exit_key); False when they
    are not waiting any more (an agent's device is ringing for them)."""
    e = q.entry(s, uniqueid)
    return e is not None and q.leave(s, e, CallOutcome.EXIT_KEY, key[:4] or None)


def left_queue(s: Session, uniqueid: str, queue_result: str,
               now: datetime) -> tuple[CallOutcome, str | None] | None:
    """Twilio's Enqueue action: the outcome and key when the queue leg ended here."""
    e = q.left_queue(s, uniqueid, queue_result, now)
    if e is None:
        return None
    if queue_result == "hangup":
        return CallOutcome.ABANDONED, None
    return CallOutcome(e.leave_reason or CallOutcome.DROPPED), e.leave_key


def entry_known(s: Session, uniqueid: str) -> bool:
    """The ACD queued this call (else the IVR's own rules apply)."""
    return q.entry(s, uniqueid) is not None


@dataclass(frozen=True)
class Room:
    """A call's conference (a hold or a consult moved it there: ``conference``), whose own
    recording holds the rest of the call; ``ended_at`` None while it goes on."""

    ended_at: datetime | None


def moved_to_room(s: Session, uniqueid: str) -> Room | None:
    """The call's room, None when the call never moved into one."""
    e = q.room_of(s, uniqueid)
    return None if e is None else Room(e.room_ended_at)


def caller_ended(s: Session, uniqueid: str, now: datetime, wrapup_s: Mapping[str, int]) -> None:
    """The caller's call ended (terminal status): whatever the ACD still had open closes,
    so a lost Enqueue or Dial action never leaves a call waiting for ever."""
    e = q.entry(s, uniqueid)
    if e is None or e.state == q.DONE:
        return
    if e.state == q.CONNECTED:
        q.complete(s, e, now, None, "caller", wrapup_s.get(e.queue, 0))
    elif e.state == q.OFFERED:
        q.abandon_offered(s, e, now)
    else:
        q.left_queue(s, uniqueid, "leave" if e.state == q.LEAVING else "hangup", now)
