"""Twilio's queue facts as acd's domain events, so the one recorder decides the outcome.

ivr reads Twilio's forms; this module sees only the plain values it parsed from them.
"""

from __future__ import annotations

from datetime import datetime

from acd import events as ev
from acd.states import CallOutcome

SOURCE = "twilio"


def queue_left(at: datetime, uniqueid: str, queue: str, wait_s: float, outcome: CallOutcome,
               caller_number: str | None, ivr_path: str | None) -> list[ev.DomainEvent]:
    """The events of a call that left a Twilio queue at ``at`` after ``wait_s`` seconds."""
    events: list[ev.DomainEvent] = []
    if ivr_path:
        events.append(ev.IvrPathSet(at, uniqueid, ivr_path))
    events.append(ev.WaitingCaller(at, uniqueid, queue, 0, wait_s, caller_number or "",
                                   source=SOURCE))
    if outcome is CallOutcome.ANSWERED:
        events.append(ev.CallAnswered(at, uniqueid, queue, "", wait_s, 0, source=SOURCE))
    elif outcome is CallOutcome.ABANDONED:
        events.append(ev.CallAbandoned(at, uniqueid, queue, 0, 0, wait_s, source=SOURCE))
    else:
        events.append(ev.CallExited(at, uniqueid, queue, outcome, None, wait_s))
    return events


def hung_up(at: datetime, uniqueid: str, queue: str, answered_at: datetime,
            wait_s: float) -> ev.CallCompleted:
    """The event of an answered Twilio call that hung up at ``at`` (talk time up to then)."""
    talk_s = max(0.0, (at - answered_at).total_seconds())
    return ev.CallCompleted(at, uniqueid, queue, "", wait_s, talk_s, "", source=SOURCE)


# ---- civic311 as the ACD on Twilio (acd/twilio_acd): the facts Asterisk's queue reports ----

def joined(at: datetime, uniqueid: str, queue: str, position: int, caller_number: str | None,
           ivr_path: str | None) -> list[ev.DomainEvent]:
    """A caller entered a Twilio queue civic311 dispatches (app_queue's QueueCallerJoin)."""
    events: list[ev.DomainEvent] = []
    if ivr_path:
        events.append(ev.IvrPathSet(at, uniqueid, ivr_path))
    events.append(ev.CallerJoined(at, uniqueid, uniqueid, "", queue, position,
                                  caller_number or "", "", source=SOURCE))
    return events


def refused(at: datetime, uniqueid: str, queue: str, caller_number: str | None,
            ivr_path: str | None) -> ev.CallRefused:
    """Nobody to take the call (joinempty): refused at join, as our dialplan reports it."""
    return ev.CallRefused(at, uniqueid, queue, "JOINEMPTY", caller_number or "", ivr_path or "")


def answered(at: datetime, uniqueid: str, queue: str, agent: str, wait_s: float,
             ring_s: float) -> ev.CallAnswered:
    """The agent's device answered (AgentConnect): ``wait_s`` from entry, ``ring_s`` ringing."""
    return ev.CallAnswered(at, uniqueid, queue, agent, wait_s, int(ring_s), source=SOURCE)


def no_answer(at: datetime, uniqueid: str, queue: str, agent: str,
              ring_s: float) -> ev.AgentNoAnswer:
    """The agent let it ring (AgentRingNoAnswer; its RingTime is milliseconds)."""
    return ev.AgentNoAnswer(at, uniqueid, queue, agent, int(ring_s * 1000))


def completed(at: datetime, uniqueid: str, queue: str, agent: str, wait_s: float,
              talk_s: float, hangup_side: str) -> ev.CallCompleted:
    """The connected call ended (AgentComplete): ``hangup_side`` caller | agent | transfer."""
    return ev.CallCompleted(at, uniqueid, queue, agent, wait_s, talk_s, hangup_side,
                            source=SOURCE)


def abandoned(at: datetime, uniqueid: str, queue: str, position: int,
              wait_s: float) -> ev.CallAbandoned:
    """The caller hung up while waiting or while an agent rang (QueueCallerAbandon)."""
    return ev.CallAbandoned(at, uniqueid, queue, position, position, wait_s, source=SOURCE)


def exited(at: datetime, uniqueid: str, queue: str, outcome: CallOutcome, key: str | None,
           wait_s: float) -> ev.CallExited:
    """The caller left alive: timeout, exit_empty or exit_key (our CivicQueueExit)."""
    return ev.CallExited(at, uniqueid, queue, outcome, key, wait_s)


def transferred(at: datetime, uniqueid: str, target: str,
                kind: str = "blind") -> ev.CallTransferred:
    """The agent sent the caller on (``kind`` blind | attended: they left the conference)."""
    return ev.CallTransferred(at, uniqueid, target, kind)


def held(at: datetime, uniqueid: str, on: bool) -> ev.CallHeld:
    """The caller's conference participant was put on hold (``on``) or taken off it
    (Twilio's participant-hold / participant-unhold: AMI's Hold / Unhold)."""
    return ev.CallHeld(at, uniqueid, on)
