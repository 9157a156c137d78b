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
