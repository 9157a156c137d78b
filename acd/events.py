"""Typed domain events: what the rest of the system sees instead of raw AMI dicts.

Times are aware UTC datetimes taken from Asterisk's own event timestamps; durations are
Asterisk's own integer seconds (the same figures queue_log records), ring_ms milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CallerJoined:
    at: datetime
    uniqueid: str
    linkedid: str
    channel: str
    queue: str
    position: int
    caller_number: str
    caller_name: str
    source: str = "ami"  # who reports the call: a record first seen here is created with it


@dataclass(frozen=True, slots=True)
class CallerLeft:
    """Left the waiting list for any reason (answered included); live state only."""

    at: datetime
    uniqueid: str
    queue: str
    count: int


@dataclass(frozen=True, slots=True)
class IvrPathSet:
    at: datetime
    uniqueid: str
    path: str


@dataclass(frozen=True, slots=True)
class AgentRinging:
    at: datetime
    uniqueid: str
    queue: str
    agent: str


@dataclass(frozen=True, slots=True)
class AgentNoAnswer:
    at: datetime
    uniqueid: str
    queue: str
    agent: str
    ring_ms: int


@dataclass(frozen=True, slots=True)
class CallAnswered:
    at: datetime
    uniqueid: str
    queue: str
    agent: str
    wait_s: float
    ring_s: int
    source: str = "ami"  # not ami and no agent: the edge's own report of a queue leg over


@dataclass(frozen=True, slots=True)
class CallCompleted:
    at: datetime
    uniqueid: str
    queue: str
    agent: str
    wait_s: float
    talk_s: float
    hangup_side: str  # caller | agent | transfer
    source: str = "ami"  # not ami and no agent: the edge knows only the end and talk time


@dataclass(frozen=True, slots=True)
class CallAbandoned:
    """Asterisk's QueueCallerAbandon: a hang-up, unless a CallExited says otherwise."""

    at: datetime
    uniqueid: str
    queue: str
    position: int
    original_position: int
    wait_s: float
    source: str = "ami"  # not ami: the edge does not say who hung up


@dataclass(frozen=True, slots=True)
class CallExited:
    """The caller left the queue alive: timeout, leave-empty or a key (our dialplan's event)."""

    at: datetime
    uniqueid: str
    queue: str
    outcome: str  # timeout | exit_empty | exit_key
    key: str | None
    wait_s: float | None = None  # queue_log and Twilio state it; on AMI the recorder derives it


@dataclass(frozen=True, slots=True)
class CallRefused:
    """Refused at join (join-empty, join-unavailable, full): no queue_log line from app_queue."""

    at: datetime
    uniqueid: str
    queue: str
    reason: str
    caller_number: str
    ivr_path: str


@dataclass(frozen=True, slots=True)
class CallbackBooked:
    """The caller booked a callback that keeps their place (our ``CALLBACK`` queue_log line)."""

    at: datetime
    uniqueid: str
    queue: str


@dataclass(frozen=True, slots=True)
class CallHeld:
    """A party of a queued call put it on hold (``held``) or took it off hold (AMI Hold /
    Unhold on either channel; ``uniqueid`` is the queued caller's, the channels' linkedid)."""

    at: datetime
    uniqueid: str
    held: bool


@dataclass(frozen=True, slots=True)
class CallTransferred:
    """An agent sent the queued caller on (``acd.transfer`` names targets and kinds): the
    queued call's talk time ends here; a target queue makes the caller's next entry its own
    queued call (a new leg of the same uniqueid)."""

    at: datetime
    uniqueid: str
    target: str
    kind: str = "blind"  # blind | attended (acd.states.TransferKind)
    queue: str = ""  # the queue of the leg transferred, when the edge says (queue_log does)


@dataclass(frozen=True, slots=True)
class AsteriskBooted:
    at: datetime
    uptime_s: int


@dataclass(frozen=True, slots=True)
class MemberState:
    """A queue member's state changed (login, logout, pause, device state)."""

    at: datetime
    queue: str
    agent: str
    kind: str  # added | removed | paused | unpaused | status | member (snapshot)
    paused: bool
    reason: str
    status: int  # Asterisk device state: 1 not in use, 2 in use, 6 ringing, 5 unavailable...
    in_call: bool


@dataclass(frozen=True, slots=True)
class WaitingCaller:
    """A caller already waiting when we took a snapshot (QueueStatus -> QueueEntry)."""

    at: datetime
    uniqueid: str
    queue: str
    position: int
    wait_s: float
    caller_number: str
    source: str = "ami"  # who reports the call: a record first seen here is created with it


@dataclass(frozen=True, slots=True)
class SnapshotDone:
    """QueueStatus finished: the snapshot of members and callers is complete."""

    at: datetime


DomainEvent = (
    CallerJoined | CallerLeft | IvrPathSet | AgentRinging | AgentNoAnswer | CallAnswered
    | CallCompleted | CallAbandoned | CallExited | CallRefused | CallbackBooked | CallTransferred
    | CallHeld
    | AsteriskBooted
    | MemberState | WaitingCaller | SnapshotDone
)
