"""Asterisk's queue_log, the ground truth: lines -> acd domain events (pure).

Line: ``epoch|callid|queue|agent|EVENT|data1|data2|...``; callid is the caller channel's
Uniqueid, the same id as on AMI. ``REFUSED`` lines are ours (dialplan ``QueueLog``): app_queue
writes nothing for callers refused at join. So are ``CALLBACK`` lines (ivr/callback_agi.py):
a caller who left by key and booked a callback that keeps their place ends as ``callback``.
The events are applied by the recorder with the log's rules (``acd.reconcile.LogRecorder``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from acd import events as ev
from acd import transfer
from acd.states import CallOutcome, TransferKind


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
    # the path first, as the live stream states it (UserEvent CivicQueueEnter before the join)
    return (ev.IvrPathSet(when, uid, d[0] if d else ""),
            ev.CallerJoined(when, uid, "", "", queue, _int(d, 2), d[1] if len(d) > 1 else "", ""))


def _connect(when: datetime, uid: str, queue: str, agent: str, d: list[str]) -> Events:
    return (ev.CallAnswered(when, uid, queue, _agent(agent), _int(d, 0), _int(d, 2)),)


def _complete(side: str) -> Translate:
    def complete(when: datetime, uid: str, queue: str, agent: str, d: list[str]) -> Events:
        return (ev.CallCompleted(when, uid, queue, _agent(agent), _int(d, 0), _int(d, 1), side),)
    return complete


def _transfer(when: datetime, uid: str, queue: str, agent: str, d: list[str]) -> Events:
    """BLINDTRANSFER ``exten|context|hold|talk|pos``; ATTENDEDTRANSFER ``BRIDGE|id``,
    ``APP|app`` or ``LINK|chan|chan``, then ``hold|talk|pos``: the figures count from the end."""
    blind = len(d) == 5 and d[0] not in ("BRIDGE", "APP", "LINK")
    target = transfer.target_of(d[0]) if blind else "|".join(d[:-3])
    kind = TransferKind.BLIND if blind else TransferKind.ATTENDED
    return (ev.CallTransferred(when, uid, target, kind, queue),
            ev.CallCompleted(when, uid, queue, _agent(agent), _int(d, -3), _int(d, -2),
                             "transfer"))


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
