"""A 311 line's past, made up (pure): calls with the daily and weekly shape of a real line,
served by the demo's agents on their shifts, as call-record rows, ring attempts and agent
state spans. The first queue is the general line (callers ask the menu for an agent); the
others are agency lines (callers report a problem). ``civic311 seed demo``, the report
tests and the benchmark use it.

Arrivals are Poisson per 15-minute interval at a rate of ``volume`` (calls on an average
weekday) x the weekday factor (Monday the peak, weekends low) x the hour's share (a
mid-morning peak, nights near zero). One pool of agents serves every queue first come,
first served; a caller waits for the first agent free, hangs up once the wait passes their
patience (exponential; a few within the short-abandon window), times out at the queue's
``timeout_s``, is refused when no agent is logged in, and sometimes books a callback
instead of waiting. The same seed gives the same history.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import numpy as np

from acd.states import AgentState, CallOutcome

SOURCE = "history"  # call_records.source of every generated call
# Monday .. Sunday, relative to an average weekday (Baltimore's and NYC's published curves)
WEEKDAY_FACTOR = (1.25, 1.1, 1.05, 1.0, 0.92, 0.42, 0.3)
# share of a day's calls in each local hour, 00..23 (under 5 % between 21:00 and 07:00)
HOUR_WEIGHT = (0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.6, 2.5, 6.5, 10.0, 11.0, 10.5, 9.0, 9.0,
               8.5, 8.0, 7.0, 5.5, 3.5, 2.5, 1.8, 1.2, 0.7, 0.4)
CALL_TYPES = (("information", 55), ("service_request", 30), ("referral", 10),
              ("complaint", 3), ("compliment", 2))
MEAN_PATIENCE_S = 400.0
CALLBACK_SHARE = 0.15  # of callers who would hang up after a minute: they book a callback
RNA_SHARE = 0.06  # calls that first rang an agent who did not answer (ring-no-answer)
RNA_RING_S = 15
IVR_SHARE = 0.7  # callers who reach the queue through the 311 menu (ivr_path as ivr.engine)
SPANISH_SHARE = 0.15
PAUSES = (("break", 150, 15), ("lunch", 240, 30), ("break", 390, 15))  # minutes into shift


@dataclass(frozen=True)
class Shift:
    """Minutes after local midnight an agent logs in, and how long they stay (minutes)."""

    start_min: int
    length_min: int = 510


WEEKDAY_SHIFTS = (Shift(420), Shift(420), Shift(480), Shift(480), Shift(600), Shift(600),
                  Shift(720), Shift(810))
WEEKEND_SHIFTS = (Shift(480), Shift(600), Shift(720))


@dataclass(frozen=True)
class QueueMix:
    """A queue, its share of the calls, and its caller limits (seconds)."""

    name: str
    share: float
    timeout_s: int = 600
    wrapup_s: int = 15


@dataclass
class History:
    """What ``generate`` made: call rows (``acd.models.CallRecord`` columns, each with its
    ``rings``) and agent state spans (``AgentStateSpan`` columns), oldest first."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    spans: list[dict[str, Any]] = field(default_factory=list)


def arrival_rate(day: date, hour: int, volume: float) -> float:
    """Expected calls in one hour of ``day`` (local time), ``volume`` a weekday's calls."""
    return volume * WEEKDAY_FACTOR[day.weekday()] * HOUR_WEIGHT[hour] / sum(HOUR_WEIGHT)


def generate(start: date, days: int, tz: tzinfo, queues: Sequence[QueueMix],
             agents: Sequence[str], volume: float = 600.0, seed: int = 311) -> History:
    """Calls of ``days`` local days from ``start``: ``volume`` calls on an average weekday."""
    rng = np.random.default_rng(seed)
    out = History()
    day_spans: dict[str, list[tuple[datetime, datetime, str, str]]] = {a: [] for a in agents}
    for n in range(days):
        day = start + timedelta(days=n)
        _day(rng, day, tz, queues, agents, volume, n, out, day_spans)
    out.spans = _spans(day_spans, _at(start, 0, tz), _at(start + timedelta(days=days), 0, tz))
    return out


def _at(day: date, minutes: float, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz) + timedelta(minutes=minutes)


@dataclass
class _Agent:
    ext: str
    windows: list[tuple[datetime, datetime]]  # logged in and not paused
    free_at: datetime


def _shifts(day: date, tz: tzinfo, agents: Sequence[str]) -> dict[str, Shift]:
    """Who works ``day``: everyone on weekdays, three in eight in turn at weekends (the
    shift patterns repeat for more agents)."""
    if day.weekday() < 5:
        return {a: WEEKDAY_SHIFTS[k % len(WEEKDAY_SHIFTS)] for k, a in enumerate(agents)}
    first = day.toordinal() % max(1, len(agents))
    turn = [agents[(first + k) % len(agents)] for k in range(math.ceil(3 * len(agents) / 8))]
    return {a: WEEKEND_SHIFTS[k % len(WEEKEND_SHIFTS)] for k, a in enumerate(turn)}


def _day(rng: np.random.Generator, day: date, tz: tzinfo, queues: Sequence[QueueMix],
         agents: Sequence[str], volume: float, n: int, out: History,
         day_spans: dict[str, list[tuple[datetime, datetime, str, str]]]) -> None:
    staff: list[_Agent] = []
    for ext, shift in _shifts(day, tz, agents).items():
        login = _at(day, shift.start_min, tz)
        logout = login + timedelta(minutes=shift.length_min)
        day_spans[ext].append((login, logout, "shift", ""))
        cuts = []
        for reason, offset, minutes in PAUSES:
            p0 = login + timedelta(minutes=offset)
            cuts.append((p0, p0 + timedelta(minutes=minutes)))
            day_spans[ext].append((p0, p0 + timedelta(minutes=minutes), "pause", reason))
        windows, t = [], login
        for p0, p1 in cuts:
            windows.append((t, p0))
            t = p1
        windows.append((t, logout))
        staff.append(_Agent(ext, windows, login))
    weights = np.array([q.share for q in queues], dtype=float)
    weights /= weights.sum()
    arrivals: list[datetime] = []
    for hour in range(24):
        for quarter in range(4):
            k = int(rng.poisson(arrival_rate(day, hour, volume) / 4))
            t0 = hour * 60 + quarter * 15
            arrivals.extend(_at(day, t0 + float(x), tz).replace(microsecond=0)
                            for x in sorted(rng.uniform(0, 15, k)))
    arrivals.sort()
    for i, entered in enumerate(arrivals):
        q = queues[int(rng.choice(len(queues), p=weights))]
        row = _call(rng, f"hist-{day:%Y%m%d}-{i:05d}", entered, q, staff, queues[0].name)
        if row["agent"]:
            a = row["agent"]
            ring0 = row["answered_at"] - timedelta(seconds=row["rings"][-1]["ring_ms"] / 1000)
            acw_end = row["ended_at"] + timedelta(seconds=row["acw_s"])
            day_spans[a].append((ring0, row["answered_at"], "call", AgentState.RINGING))
            day_spans[a].append((row["answered_at"], row["ended_at"], "call", AgentState.ON_CALL))
            day_spans[a].append((row["ended_at"], acw_end, "call", AgentState.WRAPUP))
        out.calls.append(row)


def _start_time(a: _Agent, t: datetime) -> datetime | None:
    """When agent ``a`` can first take a call arriving at ``t`` (None: not again today)."""
    t = max(t, a.free_at)
    for w0, w1 in a.windows:
        if t < w1:
            return max(t, w0)
    return None


def _call(rng: np.random.Generator, uid: str, entered: datetime, q: QueueMix,
          staff: list[_Agent], general: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "uniqueid": uid, "leg": 1, "linkedid": uid, "channel": f"PJSIP/resident-{uid[-5:]}",
        "caller_number": f"+1718{int(rng.integers(2_000_000, 9_999_999))}", "caller_name": None,
        "queue": q.name, "entered_at": entered, "position": None, "ivr_path": None,
        "answered_at": None, "ended_at": None, "wait_s": None, "talk_s": None, "hold_s": 0.0,
        "acw_s": 0.0, "agent": None, "outcome": None, "exit_key": None, "transfer_target": None,
        "transfer_kind": None, "transferred_at": None, "hangup_side": None, "call_type": None,
        "ticket_number": None, "source": SOURCE,
        "notes": None, "rings": []}
    if rng.random() < IVR_SHARE:  # came through the 311 menu (the rest dialled a line)
        lang = "es" if rng.random() < SPANISH_SHARE else "en"
        row["ivr_path"] = f"menu:start>lang:{lang}>" + (
            "agent" if q.name == general else f"report>report:{q.name}")
    logged_in = [a for a in staff if a.windows[0][0] <= entered < a.windows[-1][1]]
    if not logged_in:  # nobody in the queue: app_queue refuses the caller at join
        row.update(outcome=CallOutcome.REFUSED, wait_s=0.0, ended_at=entered,
                   notes="no agent logged in")
        return row
    options = [(s, a) for a in staff if (s := _start_time(a, entered)) is not None]
    if not options:  # every agent logged out while the caller waited
        last = max(w1 for a in staff for _, w1 in a.windows)
        wait = max(1.0, (last - entered).total_seconds())
        row.update(outcome=CallOutcome.EXIT_EMPTY, wait_s=round(wait), ended_at=entered
                   + timedelta(seconds=round(wait)))
        return row
    start, agent = min(options, key=lambda o: (o[0], o[1].ext))
    queued_s = (start - entered).total_seconds()
    rna = rng.random() < RNA_SHARE and len(logged_in) > 1 and queued_s >= RNA_RING_S
    ring_s = int(rng.integers(2, 9))
    wait = queued_s + ring_s
    patience = float(rng.exponential(MEAN_PATIENCE_S))
    if rng.random() < 0.01:  # a misdial or second thoughts: within the short-abandon window
        patience = float(rng.uniform(0.5, 4.5))
    if min(patience, q.timeout_s) < wait:
        gone = round(min(patience, q.timeout_s), 1)
        at = entered + timedelta(seconds=gone)
        if gone >= q.timeout_s:
            row.update(outcome=CallOutcome.TIMEOUT, wait_s=float(q.timeout_s), ended_at=at)
        elif gone > 60 and rng.random() < CALLBACK_SHARE:
            row.update(outcome=CallOutcome.CALLBACK, wait_s=gone, ended_at=at, exit_key="1")
        else:
            row.update(outcome=CallOutcome.ABANDONED, wait_s=gone, ended_at=at,
                       hangup_side="caller")
        return row
    answered = entered + timedelta(seconds=round(wait))
    talk = round(max(20.0, float(rng.lognormal(math.log(170), 0.5))))
    acw = round(max(float(q.wrapup_s), float(rng.gamma(2.0, 15.0))))
    hold = round(float(rng.exponential(40))) if rng.random() < 0.2 else 0
    ended = answered + timedelta(seconds=talk + hold)
    agent.free_at = ended + timedelta(seconds=acw)
    if rna:
        other = next(a for a in logged_in if a is not agent)
        row["rings"].append({"agent": other.ext, "ring_ms": RNA_RING_S * 1000,
                             "outcome": "noanswer", "at": start})
    row["rings"].append({"agent": agent.ext, "ring_ms": ring_s * 1000, "outcome": "connected",
                         "at": answered})
    types, weights = zip(*CALL_TYPES, strict=True)
    row.update(outcome=CallOutcome.ANSWERED, agent=agent.ext, answered_at=answered,
               wait_s=float(round(wait)), talk_s=float(talk + hold), hold_s=float(hold),
               acw_s=float(acw), ended_at=ended,
               hangup_side="agent" if rng.random() < 0.55 else "caller",
               call_type=types[int(rng.choice(len(types), p=np.array(weights) / 100))])
    return row


def _spans(day_spans: dict[str, list[tuple[datetime, datetime, str, str]]], begin: datetime,
           end: datetime) -> list[dict[str, Any]]:
    """Each agent's contiguous state spans over [begin, end): logged out between shifts,
    paused on breaks, ringing / on call / wrap-up for calls, available in between."""
    out: list[dict[str, Any]] = []

    def span(agent: str, state: str, t0: datetime, t1: datetime, reason: str = "") -> None:
        if t1 > t0:
            out.append({"agent": agent, "state": str(state), "reason": reason,
                        "started_at": t0, "ended_at": t1})

    for agent, items in day_spans.items():
        cursor = begin
        shifts = sorted(i for i in items if i[2] == "shift")
        busy = sorted((i for i in items if i[2] != "shift"), key=lambda i: i[0])
        k = 0
        for login, logout, _, _ in shifts:
            span(agent, AgentState.LOGGED_OUT, cursor, login)
            cursor = max(cursor, login)
            while k < len(busy) and busy[k][0] < logout:
                t0, t1, kind, what = busy[k]
                k += 1
                t0 = max(t0, cursor)
                span(agent, AgentState.AVAILABLE, cursor, t0)
                if kind == "pause":
                    span(agent, AgentState.PAUSED, t0, t1, what)
                else:
                    span(agent, what, t0, t1)
                cursor = max(cursor, t1)
            span(agent, AgentState.AVAILABLE, cursor, logout)
            cursor = max(cursor, logout)
        span(agent, AgentState.LOGGED_OUT, cursor, end)
    out.sort(key=lambda s: s["started_at"])
    return out
