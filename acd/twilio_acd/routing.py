"""Who takes whom on the Twilio ACD, and when a waiting caller must leave (pure).

The rules are app_queue's as civic311 configures it (asterisk_conf/templates/queues.conf):
a caller is offered to one free agent at a time for ``RING_S`` seconds; an agent who lets
it ring is passed over for that caller while another free agent can take it; nobody
logged in (or everyone paused) refuses a caller at join; nobody logged in makes the
waiting ones leave (``exit_empty``); the queue's ``timeout_s`` ends a wait (``timeout``).
Here the free agent is the longest idle one (Twilio has no rrmemory to copy).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from acd.agents import Agent
from acd.states import AgentState, CallOutcome
from foundation.settings import Settings

RING_S = 15  # queues.conf ``timeout``: how long one agent's device rings
WAIT_PAUSE_S = 10  # the longest pause of the waitUrl between its checks
STALE_OFFER_S = RING_S + 120  # an offer with no word from Twilio for this long is released


def wrapup_s(settings: Settings, queue: str) -> int:
    """The wrap-up an agent gets after a call of ``queue`` (0 for a queue not configured)."""
    return next((d.wrapup_s for d in settings.queues if d.name == queue), 0)


@dataclass(frozen=True, slots=True)
class Waiting:
    entry_id: int
    queue: str
    entered_at: datetime  # their place in line (a called-back resident: their first arrival)
    tried: frozenset[str]


@dataclass(frozen=True, slots=True)
class Free:
    agent: str
    queues: frozenset[str]  # the queues they take calls from now (logged in, not paused)
    idle_since: datetime


def assign(waiting: Iterable[Waiting], free: Iterable[Free]) -> list[tuple[int, str]]:
    """(entry id, agent) offers: the longest-waiting caller first, each to the longest-idle
    free agent of its queue, one who has not let it ring before if there is one."""
    left = sorted(free, key=lambda f: (f.idle_since, f.agent))
    out: list[tuple[int, str]] = []
    for w in sorted(waiting, key=lambda w: (w.entered_at, w.entry_id)):
        able = [f for f in left if w.queue in f.queues]
        if not able:
            continue
        pick = next((f for f in able if f.agent not in w.tried), able[0])
        left.remove(pick)
        out.append((w.entry_id, pick.agent))
    return out


def staffing(queue: str, memberships: Iterable[Mapping[str, tuple[bool, str]]]
             ) -> tuple[int, int]:
    """(logged in, not paused) agents of ``queue`` among the agents' memberships."""
    logged = [m[queue] for m in memberships if queue in m]
    return len(logged), sum(not paused for paused, _ in logged)


def refuse_at_join(logged: int, unpaused: int) -> bool:
    """joinempty = unavailable,invalid,unknown,paused: nobody logged in, or everyone paused."""
    return logged == 0 or unpaused == 0


def must_leave(wait_s: float, timeout_s: int, logged: int) -> CallOutcome | None:
    """Why a waiting caller leaves now (``wait_s`` seconds in line), or None to wait on."""
    if wait_s >= timeout_s:
        return CallOutcome.TIMEOUT
    if logged == 0:  # leavewhenempty = unavailable,invalid,unknown (paused agents keep it)
        return CallOutcome.EXIT_EMPTY
    return None


def pause_s(wait_s: float, timeout_s: int) -> int:
    """How long the waitUrl pauses before its next check (never past the timeout)."""
    return max(1, min(WAIT_PAUSE_S, int(timeout_s - wait_s) + 1))


def whole_s(since: datetime, until: datetime) -> float:
    """app_queue's clock arithmetic: whole seconds, ``time(NULL) - start`` (seconds)."""
    return float(max(0, int(until.timestamp()) - int(since.timestamp())))


def derive(agent: Agent) -> tuple[str, str]:
    """The agent's state and reason (``acd.agents.Agent.derive``, the Asterisk side's rule)."""
    return agent.derive()


def is_free(state: str) -> bool:
    return state == AgentState.AVAILABLE
