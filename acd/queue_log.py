"""Asterisk's queue_log, the ground truth: lines -> acd domain events -> finished calls (pure).

Line: ``epoch|callid|queue|agent|EVENT|data1|data2|...``; callid is the caller channel's
Uniqueid, the same id as on AMI. ``REFUSED`` lines are ours (dialplan ``QueueLog``): app_queue
writes nothing for callers refused at join. So are ``CALLBACK`` lines (ivr/callback_agi.py):
a caller who left by key and booked a callback that keeps their place ends as ``callback``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from acd import events as ev
from acd.states import CallOutcome


@dataclass
class LoggedCall:
    """One queued call as queue_log tells it; wait_s/talk_s in Asterisk's integer seconds."""

    uniqueid: str
    queue: str
    entered_at: datetime
    caller_number: str = ""
    ivr_path: str = ""
    position: int | None = None
    outcome: str | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    wait_s: float | None = None  # whole seconds here; float as the events type them
    talk_s: float | None = None
    agent: str | None = None
    exit_key: str | None = None
    hangup_side: str | None = None
    transfer_target: str | None = None
    seen_enter: bool = False
    rings: list[tuple[str, int, str, datetime]] = field(default_factory=list)  # agent, ms, outcome


def parse_line(line: str) -> tuple[datetime, str, str, str, str, list[str]] | None:
    parts = line.rstrip("\n").split("|")
    if len(parts) < 5 or not parts[0].isdigit():
        return None
    when = datetime.fromtimestamp(int(parts[0]), UTC)
    return when, parts[1], parts[2], parts[3], parts[4], parts[5:]


def _int(values: list[str], i: int) -> int:
    try:
        return int(values[i])
    except (IndexError, ValueError):
        return 0


def _agent(raw: str) -> str:
    tail = raw.rsplit("/", 1)[-1]
    return tail.removeprefix("agent") if tail.startswith("agent") else tail


def _enter(when: datetime, uid: str, queue: str, agent: str, d: list[str]) -> Events:
    return (ev.CallerJoined(when, uid, "", "", queue, _int(d, 2), d[1] if len(d) > 1 else "", ""),
            ev.IvrPathSet(when, uid, d[0] if d else ""))


def _connect(when: datetime, uid: str, queue: str, agent: str, d: list[str]) -> Events:
    return (ev.CallAnswered(when, uid, queue, _agent(agent), _int(d, 0), _int(d, 2)),)


def _complete(side: str) -> Translate:
    def complete(when: datetime, uid: str, queue: str, agent: str, d: list[str]) -> Events:
        return (ev.CallCompleted(when, uid, queue, _agent(agent), _int(d, 0), _int(d, 1), side),)
    return complete


def _transfer(when: datetime, uid: str, queue: str, agent: str, d: list[str]) -> Events:
    return (ev.CallTransferred(when, uid, d[0] if d else ""),
            ev.CallCompleted(when, uid, queue, _agent(agent), _int(d, 1), _int(d, 2), "transfer"))


def _abandon(when: datetime, uid: str, queue: str, agent: str, d: list[str]) -> Events:
    return (ev.CallAbandoned(when, uid, queue, _int(d, 0), _int(d, 1), _int(d, 2)),)


def _exit(outcome: CallOutcome) -> Translate:
    def exited(when: datetime, uid: str, queue: str, agent: str, d: list[str]) -> Events:
        if outcome is CallOutcome.EXIT_KEY:
            return (ev.CallExited(when, uid, queue, outcome, d[0] if d else None, _int(d, 3)),)
        return (ev.CallExited(when, uid, queue, outcome, None, _int(d, 2)),)
    return exited


def _callback(when: datetime, uid: str, queue: str, agent: str, d: list[str]) -> Events:
    return (ev.CallbackBooked(when, uid, queue),)


def _no_answer(when: datetime, uid: str, queue: str, agent: str, d: list[str]) -> Events:
    return (ev.AgentNoAnswer(when, uid, queue, _agent(agent), _int(d, 0)),)


def _refused(when: datetime, uid: str, queue: str, agent: str, d: list[str]) -> Events:
    return (ev.CallRefused(when, uid, queue, d[0] if d else "", d[1] if len(d) > 1 else "",
                           d[2] if len(d) > 2 else ""),)


Events = tuple[ev.DomainEvent, ...]
Translate = Callable[[datetime, str, str, str, list[str]], Events]
TRANSLATE: dict[str, Translate] = {
    "ENTERQUEUE": _enter, "CONNECT": _connect,
    "COMPLETECALLER": _complete("caller"), "COMPLETEAGENT": _complete("agent"),
    "BLINDTRANSFER": _transfer, "ATTENDEDTRANSFER": _transfer, "ABANDON": _abandon,
    "EXITWITHTIMEOUT": _exit(CallOutcome.TIMEOUT), "EXITEMPTY": _exit(CallOutcome.EXIT_EMPTY),
    "EXITWITHKEY": _exit(CallOutcome.EXIT_KEY), "CALLBACK": _callback,
    "RINGNOANSWER": _no_answer, "REFUSED": _refused,
}


def events_from_line(line: str) -> Events:
    """The domain events one queue_log line states (none for member and system lines)."""
    parsed = parse_line(line)
    if parsed is None or parsed[1] in ("NONE", "") or parsed[2] in ("NONE", ""):
        return ()  # member and system events carry no call
    return _events(parsed)


def _events(parsed: tuple[datetime, str, str, str, str, list[str]]) -> Events:
    when, uid, queue, agent, event, d = parsed
    fn = TRANSLATE.get(event)
    return fn(when, uid, queue, agent, d) if fn is not None else ()


def _joined(call: LoggedCall, e: ev.CallerJoined) -> None:
    call.entered_at, call.queue, call.seen_enter = e.at, e.queue, True
    call.caller_number, call.position = e.caller_number, e.position


def _ivr_path(call: LoggedCall, e: ev.IvrPathSet) -> None:
    call.ivr_path = e.path


def _answered(call: LoggedCall, e: ev.CallAnswered) -> None:
    call.answered_at = e.at  # the outcome waits for the call's end
    call.wait_s, call.agent = e.wait_s, e.agent
    call.rings.append((e.agent, e.ring_s * 1000, "connected", e.at))


def _completed(call: LoggedCall, e: ev.CallCompleted) -> None:
    call.outcome, call.ended_at, call.agent = CallOutcome.ANSWERED, e.at, e.agent
    call.wait_s, call.talk_s, call.hangup_side = e.wait_s, e.talk_s, e.hangup_side


def _transferred(call: LoggedCall, e: ev.CallTransferred) -> None:
    call.transfer_target = e.target


def _abandoned(call: LoggedCall, e: ev.CallAbandoned) -> None:
    call.outcome, call.ended_at, call.wait_s = CallOutcome.ABANDONED, e.at, e.wait_s
    call.hangup_side = "caller"


def _exited(call: LoggedCall, e: ev.CallExited) -> None:
    call.outcome, call.ended_at, call.wait_s = e.outcome, e.at, e.wait_s
    if e.outcome == CallOutcome.EXIT_KEY:
        call.exit_key = e.key


def _booked(call: LoggedCall, e: ev.CallbackBooked) -> None:
    call.outcome, call.ended_at = CallOutcome.CALLBACK, call.ended_at or e.at


def _no_answer_ring(call: LoggedCall, e: ev.AgentNoAnswer) -> None:
    call.rings.append((e.agent, e.ring_ms, "noanswer", e.at))


def _refused_call(call: LoggedCall, e: ev.CallRefused) -> None:
    call.outcome, call.ended_at, call.wait_s = CallOutcome.REFUSED, e.at, 0
    call.seen_enter, call.caller_number, call.ivr_path = True, e.caller_number, e.ivr_path


FOLD: dict[type, Callable[[LoggedCall, Any], None]] = {
    ev.CallerJoined: _joined, ev.IvrPathSet: _ivr_path, ev.CallAnswered: _answered,
    ev.CallCompleted: _completed, ev.CallTransferred: _transferred,
    ev.CallAbandoned: _abandoned, ev.CallExited: _exited, ev.CallbackBooked: _booked,
    ev.AgentNoAnswer: _no_answer_ring, ev.CallRefused: _refused_call,
}


def calls_from_lines(lines: Iterable[str]) -> Iterator[LoggedCall]:
    """Every call seen in these lines, in order of first appearance (live ones unfinished):
    each line's domain events folded into its call (the log's figures win)."""
    calls: dict[str, LoggedCall] = {}
    for line in lines:
        parsed = parse_line(line)
        if parsed is None:
            continue
        when, uid, queue = parsed[0], parsed[1], parsed[2]
        if uid in ("NONE", "") or queue in ("NONE", ""):
            continue  # member and system events carry no call
        call = calls.get(uid)
        if call is None:
            call = calls[uid] = LoggedCall(uid, queue, when)
        for e in _events(parsed):
            FOLD[type(e)](call, e)
    for call in calls.values():
        if (call.answered_at is None and call.outcome == CallOutcome.ANSWERED
                and call.talk_s is not None):
            call.answered_at = (call.ended_at or call.entered_at) - timedelta(seconds=call.talk_s)
        if not call.seen_enter and call.wait_s is not None:
            # joined before the lines we read: its entry time follows from its own figures
            start = call.answered_at or call.ended_at or call.entered_at
            call.entered_at = start - timedelta(seconds=call.wait_s)
        yield call
