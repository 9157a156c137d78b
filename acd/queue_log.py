"""Asterisk's queue_log, the ground truth: parse lines into finished-call facts (pure).

Line: ``epoch|callid|queue|agent|EVENT|data1|data2|...``; callid is the caller channel's
Uniqueid, the same id as on AMI. ``REFUSED`` lines are ours (dialplan ``QueueLog``): app_queue
writes nothing for callers refused at join. So are ``CALLBACK`` lines (ivr/callback_agi.py):
a caller who left by key and booked a callback that keeps their place ends as ``callback``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

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
    wait_s: int | None = None
    talk_s: int | None = None
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


def calls_from_lines(lines: Iterable[str]) -> Iterator[LoggedCall]:
    """Every call seen in these lines, in order of first appearance (live ones unfinished)."""
    calls: dict[str, LoggedCall] = {}
    for line in lines:
        parsed = parse_line(line)
        if parsed is None:
            continue
        when, uid, queue, agent, event, d = parsed
        if uid in ("NONE", "") or queue in ("NONE", ""):
            continue  # member and system events carry no call
        call = calls.get(uid)
        if call is None:
            call = calls[uid] = LoggedCall(uid, queue, when)
        if event == "ENTERQUEUE":
            call.entered_at, call.queue, call.seen_enter = when, queue, True
            call.ivr_path = d[0] if d else ""
            call.caller_number = d[1] if len(d) > 1 else ""
            call.position = _int(d, 2)
        elif event == "CONNECT":
            call.answered_at = when  # the outcome waits for the call's end
            call.wait_s, call.agent = _int(d, 0), _agent(agent)
            call.rings.append((_agent(agent), _int(d, 2) * 1000, "connected", when))
        elif event in ("COMPLETECALLER", "COMPLETEAGENT"):
            call.outcome, call.ended_at, call.agent = CallOutcome.ANSWERED, when, _agent(agent)
            call.wait_s, call.talk_s = _int(d, 0), _int(d, 1)
            call.hangup_side = "caller" if event == "COMPLETECALLER" else "agent"
        elif event in ("BLINDTRANSFER", "ATTENDEDTRANSFER"):
            call.outcome, call.ended_at, call.agent = CallOutcome.ANSWERED, when, _agent(agent)
            call.transfer_target = d[0] if d else ""
            call.wait_s, call.talk_s, call.hangup_side = _int(d, 1), _int(d, 2), "transfer"
        elif event == "ABANDON":
            call.outcome, call.ended_at, call.wait_s = CallOutcome.ABANDONED, when, _int(d, 2)
            call.hangup_side = "caller"
        elif event == "EXITWITHTIMEOUT":
            call.outcome, call.ended_at, call.wait_s = CallOutcome.TIMEOUT, when, _int(d, 2)
        elif event == "EXITEMPTY":
            call.outcome, call.ended_at, call.wait_s = CallOutcome.EXIT_EMPTY, when, _int(d, 2)
        elif event == "EXITWITHKEY":
            call.outcome, call.ended_at, call.wait_s = CallOutcome.EXIT_KEY, when, _int(d, 3)
            call.exit_key = d[0] if d else None
        elif event == "CALLBACK":
            call.outcome, call.ended_at = CallOutcome.CALLBACK, call.ended_at or when
        elif event == "RINGNOANSWER":
            call.rings.append((_agent(agent), _int(d, 0), "noanswer", when))
        elif event == "REFUSED":
            call.outcome, call.ended_at, call.wait_s = CallOutcome.REFUSED, when, 0
            call.seen_enter = True
            call.caller_number = d[1] if len(d) > 1 else ""
            call.ivr_path = d[2] if len(d) > 2 else ""
    for call in calls.values():
        if (call.answered_at is None and call.outcome == CallOutcome.ANSWERED
                and call.talk_s is not None):
            call.answered_at = (call.ended_at or call.entered_at) - timedelta(seconds=call.talk_s)
        if not call.seen_enter and call.wait_s is not None:
            # joined before the lines we read: its entry time follows from its own figures
            start = call.answered_at or call.ended_at or call.entered_at
            call.entered_at = start - timedelta(seconds=call.wait_s)
        yield call
