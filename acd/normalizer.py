"""ONE dispatch table from AMI event names to typed domain events (pure).

Only queue, agent, channel, DTMF and our own user events are mapped; the rest are cut at
the source (manager.conf event filter) and return None here if they arrive anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime

from acd import events as ev
from acd import transfer
from acd.states import CallOutcome, TransferKind

log = logging.getLogger(__name__)

Msg = Mapping[str, str]
WEBRTC_SUFFIX = "-webrtc"  # a browser phone's endpoint (telephony.phones.webrtc_user)

EXIT_STATUS = {"TIMEOUT": CallOutcome.TIMEOUT, "LEAVEEMPTY": CallOutcome.EXIT_EMPTY,
               "LEAVEUNAVAIL": CallOutcome.EXIT_EMPTY, "EXITWITHKEY": CallOutcome.EXIT_KEY}


def at(msg: Msg) -> datetime:
    """The event's own Asterisk timestamp (``timestampevents = yes``), UTC."""
    raw = msg.get("Timestamp")
    return datetime.fromtimestamp(float(raw), UTC) if raw else datetime.now(UTC)


def agent_of(msg: Msg) -> str:
    """'PJSIP/agent100' (desk phone) and 'PJSIP/agent100-webrtc' (browser phone) -> '100';
    other interfaces are kept whole."""
    iface = (msg.get("Interface") or msg.get("Location")  # QueueMember (snapshot) says Location
             or msg.get("MemberName") or msg.get("Name") or "")
    tail = iface.rsplit("/", 1)[-1]
    if not tail.startswith("agent"):
        return tail
    return tail.removeprefix("agent").removesuffix(WEBRTC_SUFFIX)


def _int(msg: Msg, key: str, default: int = 0) -> int:
    try:
        return int(msg.get(key) or default)
    except ValueError:
        return default


def _joined(m: Msg) -> ev.CallerJoined:
    return ev.CallerJoined(at(m), m["Uniqueid"], m.get("Linkedid", ""), m.get("Channel", ""),
                           m["Queue"], _int(m, "Position"), m.get("CallerIDNum", ""),
                           m.get("CallerIDName", ""))


def _left(m: Msg) -> ev.CallerLeft:
    return ev.CallerLeft(at(m), m["Uniqueid"], m["Queue"], _int(m, "Count"))


def _abandon(m: Msg) -> ev.CallAbandoned:
    return ev.CallAbandoned(at(m), m["Uniqueid"], m["Queue"], _int(m, "Position"),
                            _int(m, "OriginalPosition"), _int(m, "HoldTime"))


def _called(m: Msg) -> ev.AgentRinging:
    return ev.AgentRinging(at(m), m["Uniqueid"], m["Queue"], agent_of(m))


def _noanswer(m: Msg) -> ev.AgentNoAnswer:
    # AgentRingNoAnswer.RingTime is milliseconds (AgentConnect.RingTime is seconds).
    return ev.AgentNoAnswer(at(m), m["Uniqueid"], m["Queue"], agent_of(m), _int(m, "RingTime"))


def _connect(m: Msg) -> ev.CallAnswered:
    return ev.CallAnswered(at(m), m["Uniqueid"], m["Queue"], agent_of(m), _int(m, "HoldTime"),
                           _int(m, "RingTime"))


def _complete(m: Msg) -> ev.CallCompleted:
    # Asterisk sends it without the caller's channel fields when that channel's snapshot is
    # already gone (seen about once in a thousand calls): the uniqueid is then left empty for
    # ``AgentCalls`` to fill from the agent's connect
    return ev.CallCompleted(at(m), m.get("Uniqueid", ""), m["Queue"], agent_of(m),
                            _int(m, "HoldTime"), _int(m, "TalkTime"),
                            (m.get("Reason") or "caller").lower())


def _user(m: Msg) -> ev.DomainEvent | None:
    name = m.get("UserEvent", "")
    if name == "CivicQueueRefused":
        return ev.CallRefused(at(m), m["Uniqueid"], m["Queue"], m.get("Reason", ""),
                              m.get("CallerIDNum", ""), m.get("IvrPath", ""))
    if name == "CivicQueueExit":
        outcome = EXIT_STATUS.get(m.get("Status", ""))
        if outcome is None:
            return None
        return ev.CallExited(at(m), m["Uniqueid"], m.get("Queue", ""), outcome,
                             m.get("Key") or None)
    if name == "CivicQueueEnter":
        return ev.IvrPathSet(at(m), m["Uniqueid"], m.get("IvrPath", ""))
    return None


def _transfer(m: Msg) -> ev.CallTransferred | None:
    """BlindTransfer / AttendedTransfer that succeeded: the transferee is the queued caller
    (its uniqueid keys the record); the target is named as ``acd.transfer`` names it."""
    uid = m.get("TransfereeUniqueid") or m.get("OrigTransfererUniqueid")
    if not uid or m.get("Result", "Success") != "Success":
        return None
    blind = m.get("Event") == "BlindTransfer"
    # no target channel (a Local channel being optimised away at that moment): unnamed here,
    # never the transferer's own channel (the daemon may know it: acd.agent_actions.Consults)
    target = m.get("Extension") or m.get("TransferTargetChannel") or ""
    return ev.CallTransferred(at(m), uid, transfer.target_of(target),
                              TransferKind.BLIND if blind else TransferKind.ATTENDED)


def _booted(m: Msg) -> ev.AsteriskBooted:
    return ev.AsteriskBooted(at(m), _int(m, "Uptime"))


def _member(kind: str) -> Callable[[Msg], ev.MemberState]:
    def build(m: Msg) -> ev.MemberState:
        paused = m.get("Paused") == "1"
        k = kind if kind != "pause" else ("paused" if paused else "unpaused")
        return ev.MemberState(at(m), m.get("Queue", ""), agent_of(m), k, paused,
                              m.get("PausedReason") or m.get("Reason") or "", _int(m, "Status"),
                              m.get("InCall") == "1")

    return build


def _entry(m: Msg) -> ev.WaitingCaller:
    return ev.WaitingCaller(at(m), m["Uniqueid"], m["Queue"], _int(m, "Position"),
                            _int(m, "Wait"), m.get("CallerIDNum", ""))


DISPATCH: dict[str, Callable[[Msg], ev.DomainEvent | None]] = {
    "QueueCallerJoin": _joined,
    "QueueCallerLeave": _left,
    "QueueCallerAbandon": _abandon,
    "AgentCalled": _called,
    "AgentRingNoAnswer": _noanswer,
    "AgentConnect": _connect,
    "AgentComplete": _complete,
    "UserEvent": _user,
    "Hold": lambda m: ev.CallHeld(at(m), m["Linkedid"], True),
    "Unhold": lambda m: ev.CallHeld(at(m), m["Linkedid"], False),
    "BlindTransfer": _transfer,
    "AttendedTransfer": _transfer,
    "FullyBooted": _booted,
    "QueueMemberAdded": _member("added"),
    "QueueMemberRemoved": _member("removed"),
    "QueueMemberPause": _member("pause"),
    "QueueMemberStatus": _member("status"),
    "QueueMember": _member("member"),
    "QueueStatusComplete": lambda m: ev.SnapshotDone(at(m)),
    "QueueEntry": _entry,
}


class AgentCalls:
    """The caller each agent is connected to, by queue, from the stream's AgentConnects: it
    names the caller of an AgentComplete that came without one (stateful, still no I/O)."""

    MAX = 5000  # connects whose end never came are forgotten, oldest first

    def __init__(self) -> None:
        self._calls: dict[tuple[str, str], str] = {}

    def resolve(self, e: ev.DomainEvent) -> ev.DomainEvent | None:
        """``e`` itself, a CallCompleted with its caller filled in, or None when no connect
        of that agent in that queue is known (the record is then closed by reconciliation)."""
        if isinstance(e, ev.CallAnswered) and e.source == "ami":
            self._calls.pop((e.queue, e.agent), None)
            self._calls[(e.queue, e.agent)] = e.uniqueid
            while len(self._calls) > self.MAX:
                del self._calls[next(iter(self._calls))]
        elif isinstance(e, ev.CallCompleted) and e.source == "ami":
            uid = self._calls.pop((e.queue, e.agent), "")
            if not e.uniqueid:
                if not uid:
                    log.warning("an AgentComplete of agent %s in %s named no caller and no "
                                "connect of theirs is known; left to reconciliation",
                                e.agent, e.queue)
                    return None
                return replace(e, uniqueid=uid)
        return e


def normalize(msg: Msg) -> ev.DomainEvent | None:
    """The domain event for one flat AMI event (a plain dict, as the bridge hands it on),
    or None when it is not ours to track."""
    fn = DISPATCH.get(str(msg.get("Event", "")))
    if fn is None:
        return None
    try:
        return fn(msg)
    except KeyError as missing:  # a malformed event is dropped here, never half-applied,
        # and said: a call whose end is dropped stays open until reconciliation
        log.warning("dropped a %s event without %s: %s", msg.get("Event"), missing,
                    {k: msg[k] for k in list(msg)[:12]})
        return None
