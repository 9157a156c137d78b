"""Agent states as a pure state machine over domain events.

States: logged_out, available, ringing, on_call, wrapup, paused. An agent is logged in
while a member of at least one queue. After a call, wrap-up lasts the queue's wrap-up
limit (Asterisk routes no call meanwhile) unless the agent pauses. ``tick(now)`` ends
expired wrap-ups; the daemon calls it on a timer. Transitions are returned, never stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from acd import events as ev
from acd.states import AgentState

STATES = tuple(AgentState)
NOT_IN_USE, RINGING = 1, 6
BUSY = (2, 3, 7, 8)  # Asterisk device states: in use, busy, ring-in-use, on hold
UNKNOWN_CALL = "?"  # on a call that started before we were watching


@dataclass(frozen=True, slots=True)
class Transition:
    agent: str
    state: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class WrapupEnded:
    """Wrap-up of the call ``uniqueid`` took ``acw_s`` seconds (after-call work)."""

    agent: str
    uniqueid: str
    acw_s: float


@dataclass
class Agent:
    queues: dict[str, tuple[bool, str]] = field(default_factory=dict)  # queue -> paused, reason
    ringing: bool = False
    on_call: str | None = None  # uniqueid
    wrapup_call: str | None = None
    wrapup_since: datetime | None = None
    wrapup_until: datetime | None = None
    state: str = AgentState.LOGGED_OUT
    reason: str = ""

    def derive(self) -> tuple[str, str]:
        if not self.queues:
            return AgentState.LOGGED_OUT, ""
        if self.on_call:
            return AgentState.ON_CALL, ""
        if self.ringing:
            return AgentState.RINGING, ""
        paused = [reason for p, reason in self.queues.values() if p]
        if paused and len(paused) == len(self.queues):
            return AgentState.PAUSED, paused[0]
        if self.wrapup_until is not None:
            return AgentState.WRAPUP, ""
        return AgentState.AVAILABLE, ""


class AgentTracker:
    def __init__(self, wrapup_s: dict[str, int], default_wrapup_s: int = 0) -> None:
        self.agents: dict[str, Agent] = {}
        self.wrapup_s = wrapup_s
        self.default_wrapup_s = default_wrapup_s
        self._snapshot: set[tuple[str, str]] | None = None

    def agent(self, name: str) -> Agent:
        return self.agents.setdefault(name, Agent())

    def begin_snapshot(self) -> None:
        """A QueueStatus snapshot follows: memberships not in it are gone."""
        self._snapshot = set()

    def apply(self, e: object) -> list[Transition | WrapupEnded]:
        out: list[Transition | WrapupEnded] = []
        at = getattr(e, "at", None)
        touched: set[str] = set()
        match e:
            case ev.MemberState(kind="added" | "member", agent=name):
                a = self.agent(name)
                a.queues[e.queue] = (e.paused, e.reason)
                if e.kind == "member":  # the snapshot knows the device, not the call
                    if self._snapshot is not None:
                        self._snapshot.add((name, e.queue))
                    if e.in_call or e.status in BUSY:
                        a.on_call = a.on_call or UNKNOWN_CALL
                    a.ringing = e.status == RINGING
                touched.add(name)
            case ev.MemberState(kind="removed", agent=name):
                self.agent(name).queues.pop(e.queue, None)
                touched.add(name)
            case ev.MemberState(kind="paused" | "unpaused", agent=name):
                a = self.agent(name)
                if e.queue in a.queues or not e.queue:
                    for q in ([e.queue] if e.queue else list(a.queues)):
                        a.queues[q] = (e.paused, e.reason)
                touched.add(name)
            case ev.MemberState(kind="status", agent=name):
                a = self.agent(name)
                if e.status == NOT_IN_USE and not e.in_call:
                    a.ringing = False
                    if a.on_call == UNKNOWN_CALL:  # the call the snapshot saw has ended
                        a.on_call = None
                touched.add(name)
            case ev.AgentRinging(agent=name):
                self.agent(name).ringing = True
                touched.add(name)
            case ev.AgentNoAnswer(agent=name):
                self.agent(name).ringing = False
                touched.add(name)
            case ev.CallAnswered(agent=name):
                a = self.agent(name)
                out.extend(self._end_wrapup(name, a, e.at))
                a.ringing, a.on_call = False, e.uniqueid
                touched.add(name)
            case ev.CallCompleted(agent=name):
                a = self.agent(name)
                a.on_call = None
                limit = self.wrapup_s.get(e.queue, self.default_wrapup_s)
                a.wrapup_call, a.wrapup_since = e.uniqueid, e.at
                a.wrapup_until = e.at + timedelta(seconds=limit)
                touched.add(name)
                if limit <= 0:
                    out.extend(self._end_wrapup(name, a, e.at))
            case ev.SnapshotDone():
                if self._snapshot is not None:
                    for name, a in self.agents.items():
                        for q in [q for q in a.queues if (name, q) not in self._snapshot]:
                            del a.queues[q]
                        touched.add(name)
                    self._snapshot = None
        for name in sorted(touched):
            out.extend(self._settle(name, at))
        return out

    def _end_wrapup(self, name: str, a: Agent, at: datetime) -> list[WrapupEnded]:
        if a.wrapup_until is None or a.wrapup_since is None or a.wrapup_call is None:
            return []
        acw = max(0.0, (min(at, a.wrapup_until) - a.wrapup_since).total_seconds())
        done = WrapupEnded(name, a.wrapup_call, acw)
        a.wrapup_call = a.wrapup_since = a.wrapup_until = None
        return [done]

    def _settle(self, name: str, at: datetime | None) -> list[Transition]:
        a = self.agents[name]
        state, reason = a.derive()
        if (state, reason) == (a.state, a.reason) or at is None:
            return []
        a.state, a.reason = state, reason
        return [Transition(name, state, reason, at)]

    def tick(self, now: datetime) -> list[Transition | WrapupEnded]:
        """End the wrap-ups whose limit has passed."""
        out: list[Transition | WrapupEnded] = []
        for name, a in self.agents.items():
            if a.wrapup_until is not None and a.wrapup_until <= now:
                out.extend(self._end_wrapup(name, a, now))
                out.extend(self._settle(name, now))
        return out
