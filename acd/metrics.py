"""Queue metrics as pure functions over call facts (the industry definitions).

Every rate names its definition; the choices a center makes are documented, with their
references, in ``acd.definitions`` (and the ``definitions`` object of every report).

- Offered = entered the queue + refused at join (no agent logged in, queue full).
- Entered queue = offered - refused.
- Short abandon = abandoned before ``short_abandon_s`` seconds of waiting; left out of every
  rate's denominator (and of the numerators).
- Not served = abandoned (not short) + timed out + exit by key + exit empty + dropped: the
  callers who entered a queue and left it without an agent and without a callback.
- Service level(T) = answered with wait_s <= T / a denominator chosen by
  ``ServiceLevelBasis``: ``entered_queue`` (default: entered queue - short abandoned; every
  timeout, exit and abandon counts as not answered in time), ``answered_abandoned``
  (answered + abandoned, short ones out) or ``answered`` (answered only).
- Abandon rate = not served (``AbandonBasis.NOT_SERVED``, default) or abandoned only
  (``ABANDONED_ONLY``) / (offered - short abandoned).
- Refused rate = refused / (offered - short abandoned), reported beside the abandon rate, so
  answered + not served + refused + callback shares add up to the whole.
- ASA = total wait of answered calls / answered calls (seconds).
- AHT = (talk + hold + after-call work) / answered calls (seconds).
- Longest wait = the longest wait_s of any call in the set, whatever its outcome.
- Callback = left the queue for a callback that keeps their place (offered once); the
  callback's placeholder call is not offered again (``acd.queries`` leaves it out). Not
  "not served" (the callback serves them) but counted in the ``entered_queue`` denominator.
- Dropped = cut off by the PBX itself (an Asterisk restart): offered, neither answered
  nor abandoned; not served.
- Occupancy = handle time / staffed time, from the agent state spans clipped to the period:
  handle time = on_call + wrapup (talk + hold + after-call work); staffed time = logged in
  and not paused = available + ringing + on_call + wrapup, i.e. handle time + available idle
  time (ringing counts as idle: the agent is reserved, not yet handling). Paused and logged
  out time count in neither. All queues: every agent with a span in the period. One queue:
  the agents who answered at least one of its calls (spans carry no queue, so an agent in
  several queues counts whole in each).
- Calls per agent = answered calls that name their agent / distinct agents who answered
  them (per queue: that queue's answered calls and the agents who answered them).

Summaries are additive (counts, sums and a maximum), so 15-minute rollups ``combine`` into
any longer period exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from acd.states import AbandonBasis, AgentState, CallOutcome, ServiceLevelBasis


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What metrics need of one call; wait_s, talk_s, hold_s, acw_s in seconds."""

    queue: str
    entered_at: datetime
    outcome: str  # answered|abandoned|timeout|exit_key|exit_empty|refused|callback
    wait_s: float = 0.0
    talk_s: float = 0.0
    hold_s: float = 0.0
    acw_s: float = 0.0
    agent: str | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    timed_out: int
    exit_key: int
    exit_empty: int
    refused: int
    callback: int
    dropped: int
    answered_within: dict[int, int]
    total_wait_answered_s: float
    total_handle_s: float
    longest_wait_s: float

    @property
    def entered_queue(self) -> int:
        """Callers who entered a queue: offered minus those refused at join."""
        return self.offered - self.refused

    @property
    def not_served(self) -> int:
        """Entered a queue and left it with neither an agent nor a callback (short ones out)."""
        return self.abandoned + self.timed_out + self.exit_key + self.exit_empty + self.dropped

    def service_level(self, threshold_s: int,
                      basis: ServiceLevelBasis = ServiceLevelBasis.ENTERED_QUEUE) -> float | None:
        """Fraction answered within threshold_s seconds over ``basis``; None when nothing counts."""
        if basis == ServiceLevelBasis.ENTERED_QUEUE:
            denominator = self.entered_queue - self.short_abandoned
        elif basis == ServiceLevelBasis.ANSWERED_ABANDONED:
            denominator = self.answered + self.abandoned
        else:
            denominator = self.answered
        if denominator == 0:
            return None
        return self.answered_within[threshold_s] / denominator

    @property
    def asa_s(self) -> float | None:
        return self.total_wait_answered_s / self.answered if self.answered else None

    @property
    def aht_s(self) -> float | None:
        return self.total_handle_s / self.answered if self.answered else None

    def abandon_rate(self, basis: AbandonBasis = AbandonBasis.NOT_SERVED) -> float | None:
        """Not served (or abandoned only) over offered minus short abandons; None if none."""
        denominator = self.offered - self.short_abandoned
        numerator = self.not_served if basis == AbandonBasis.NOT_SERVED else self.abandoned
        return numerator / denominator if denominator else None

    @property
    def refused_rate(self) -> float | None:
        """Refused at join over offered minus short abandons (beside the abandon rate)."""
        denominator = self.offered - self.short_abandoned
        return self.refused / denominator if denominator else None

    def as_dict(self, sl_basis: ServiceLevelBasis = ServiceLevelBasis.ENTERED_QUEUE,
                abandon_basis: AbandonBasis = AbandonBasis.NOT_SERVED) -> dict[str, object]:
        """The stable JSON contract of ``report calls --json`` and ``/api/v1/metrics``; the
        rates follow the bases given (the caller adds the ``definitions`` object naming them)."""
        return {
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "short_abandoned": self.short_abandoned,
            "timed_out": self.timed_out,
            "exit_key": self.exit_key,
            "exit_empty": self.exit_empty,
            "refused": self.refused,
            "callback": self.callback,
            "dropped": self.dropped,
            "not_served": self.not_served,
            "service_level": {str(t): round4(self.service_level(t, sl_basis))
                              for t in self.answered_within},
            "abandon_rate": round4(self.abandon_rate(abandon_basis)),
            "refused_rate": round4(self.refused_rate),
            "asa_s": round4(self.asa_s),
            "aht_s": round4(self.aht_s),
            "longest_wait_s": round4(self.longest_wait_s),
        }


def round4(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def summarize(
    calls: Iterable[CallFacts], thresholds_s: Sequence[int] = (30, 60), short_abandon_s: float = 5
) -> Summary:
    """Aggregate finished calls (live ones, outcome empty, are skipped)."""
    counts = dict.fromkeys(
        ("answered", "abandoned", "short", "timeout", "exit_key", "exit_empty", "refused",
         "callback", "dropped"), 0)
    within = dict.fromkeys(thresholds_s, 0)
    wait_answered = handle = longest = 0.0
    for c in calls:
        if not c.outcome:
            continue
        longest = max(longest, c.wait_s)
        if c.outcome == CallOutcome.ANSWERED:
            counts["answered"] += 1
            wait_answered += c.wait_s
            handle += c.talk_s + c.hold_s + c.acw_s
            for t in within:
                if c.wait_s <= t:
                    within[t] += 1
        elif c.outcome == CallOutcome.ABANDONED:
            counts["short" if c.wait_s < short_abandon_s else "abandoned"] += 1
        elif c.outcome in counts:
            counts[c.outcome] += 1
    offered = sum(counts.values())
    return Summary(
        offered=offered,
        answered=counts["answered"],
        abandoned=counts["abandoned"],
        short_abandoned=counts["short"],
        timed_out=counts["timeout"],
        exit_key=counts["exit_key"],
        exit_empty=counts["exit_empty"],
        refused=counts["refused"],
        callback=counts["callback"],
        dropped=counts["dropped"],
        answered_within=within,
        total_wait_answered_s=wait_answered,
        total_handle_s=handle,
        longest_wait_s=longest,
    )


def combine(parts: Iterable[Summary], thresholds_s: Sequence[int] = (30, 60)) -> Summary:
    """The summary of the union of the periods the parts summarize (they must not overlap)."""
    fields = ("offered", "answered", "abandoned", "short_abandoned", "timed_out", "exit_key",
              "exit_empty", "refused", "callback", "dropped")
    totals = dict.fromkeys(fields, 0)
    within = dict.fromkeys(thresholds_s, 0)
    wait = handle = longest = 0.0
    for p in parts:
        for f in fields:
            totals[f] += getattr(p, f)
        for t in within:
            within[t] += p.answered_within.get(t, 0)
        wait += p.total_wait_answered_s
        handle += p.total_handle_s
        longest = max(longest, p.longest_wait_s)
    return Summary(**totals, answered_within=within, total_wait_answered_s=wait,
                   total_handle_s=handle, longest_wait_s=longest)


@dataclass(frozen=True, slots=True)
class Span:
    """An agent in ``state`` from ``start`` to ``end`` (None: still in it)."""

    agent: str
    state: str
    start: datetime
    end: datetime | None


@dataclass(frozen=True, slots=True)
class AgentStats:
    agent: str
    answered: int
    talk_s: float
    acw_s: float
    seconds_in: dict[str, float]  # state -> seconds within the period

    @property
    def logged_in_s(self) -> float:
        return sum(self.seconds_in.values())

    @property
    def aht_s(self) -> float | None:
        return (self.talk_s + self.acw_s) / self.answered if self.answered else None

    @property
    def occupancy(self) -> float | None:
        """Handle time over staffed time (logged in, not paused); see the module docstring."""
        return occupancy(self.seconds_in)


HANDLING = (AgentState.ON_CALL, AgentState.WRAPUP)  # talk + hold, after-call work
STAFFED = (AgentState.AVAILABLE, AgentState.RINGING, *HANDLING)  # logged in and not paused


def occupancy(seconds_in: Mapping[str, float]) -> float | None:
    """Handle seconds over staffed seconds (state -> seconds); None when never staffed."""
    staffed = sum(seconds_in.get(s, 0.0) for s in STAFFED)
    return sum(seconds_in.get(s, 0.0) for s in HANDLING) / staffed if staffed else None


def seconds_by_agent(spans: Iterable[Span], start: datetime,
                     end: datetime) -> dict[str, dict[str, float]]:
    """Agent -> state -> seconds within [start, end); an open span (end None) runs to end."""
    seconds: dict[str, dict[str, float]] = {}
    for sp in spans:
        lo, hi = max(sp.start, start), min(sp.end or end, end)
        if hi > lo:
            per = seconds.setdefault(sp.agent, {})
            per[sp.state] = per.get(sp.state, 0.0) + (hi - lo).total_seconds()
    return seconds


@dataclass(frozen=True, slots=True)
class Staffing:
    """Occupancy and calls per agent over one period; handle_s and staffed_s in seconds."""

    answered: int  # answered calls that name their agent
    agents: int  # distinct agents who answered them
    handle_s: float
    staffed_s: float

    @property
    def occupancy(self) -> float | None:
        return self.handle_s / self.staffed_s if self.staffed_s else None

    @property
    def calls_per_agent(self) -> float | None:
        return self.answered / self.agents if self.agents else None

    def as_dict(self) -> dict[str, object]:
        """Keys added to the ``report calls --json`` / ``/api/v1/metrics`` object."""
        return {"occupancy": round4(self.occupancy), "calls_per_agent": round4(
            self.calls_per_agent), "agents_answering": self.agents}


def staffing(answered: Mapping[tuple[str, str], int], seconds: Mapping[str, Mapping[str, float]],
             queue: str | None = None) -> Staffing:
    """Occupancy and calls per agent of one queue (None: all queues).

    answered: (queue, agent) -> answered calls; seconds: ``seconds_by_agent`` of the period.
    """
    mine = {(q, a): n for (q, a), n in answered.items() if n and (queue is None or q == queue)}
    handlers = {a for _, a in mine}
    staffed_agents = handlers if queue is not None else handlers | set(seconds)
    handle = staffed = 0.0
    for a in staffed_agents:
        per = seconds.get(a, {})
        handle += sum(per.get(s, 0.0) for s in HANDLING)
        staffed += sum(per.get(s, 0.0) for s in STAFFED)
    return Staffing(sum(mine.values()), len(handlers), handle, staffed)


def agent_stats(calls: Iterable[CallFacts], spans: Iterable[Span], start: datetime,
                end: datetime) -> list[AgentStats]:
    """Per agent: answered calls and handle time, and time in each state clipped to the period."""
    answered: dict[str, list[float]] = {}
    for c in calls:
        if c.outcome == CallOutcome.ANSWERED and c.agent:
            a = answered.setdefault(c.agent, [0, 0.0, 0.0])
            a[0] += 1
            a[1] += c.talk_s + c.hold_s
            a[2] += c.acw_s
    seconds = seconds_by_agent(spans, start, end)
    agents = sorted(set(answered) | set(seconds))
    return [AgentStats(a, int(answered.get(a, [0])[0]), answered.get(a, [0, 0.0])[1],
                       answered.get(a, [0, 0.0, 0.0])[2], seconds.get(a, {})) for a in agents]
