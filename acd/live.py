"""The live picture of the center (pure): who is waiting in which queue, and every agent's state.

The daemon folds each batch of domain events into a ``LiveBoard`` and, when it changed,
publishes ``doc()`` (plain JSON) for the web; ``queue_tiles`` turns that document plus
today's summaries into the wallboard's per-queue figures. Times stay timestamps, so
browsers tick "longest wait" and "time in state" themselves between changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from acd import events as ev
from acd.agents import AgentTracker, Transition, WrapupEnded
from acd.definitions import Definitions
from acd.metrics import Summary
from acd.states import AgentState

GONE = (ev.CallerLeft, ev.CallAnswered, ev.CallAbandoned, ev.CallExited, ev.CallRefused)


@dataclass(frozen=True, slots=True)
class Waiting:
    since: datetime
    position: int


class LiveBoard:
    def __init__(self, queues: Sequence[str], wrapup_s: Mapping[str, int],
                 default_wrapup_s: int = 0) -> None:
        self.queues = list(queues)
        self.tracker = AgentTracker(dict(wrapup_s), default_wrapup_s)
        self.waiting: dict[str, dict[str, Waiting]] = {q: {} for q in self.queues}
        self.since: dict[str, datetime] = {}
        self.version = 0
        self._snapshot: set[str] | None = None

    def begin_snapshot(self) -> None:
        """A QueueStatus snapshot follows: callers and members missing from it are gone."""
        self._snapshot = set()
        self.tracker.begin_snapshot()

    def apply(self, batch: Iterable[object]) -> list[Transition | WrapupEnded]:
        out: list[Transition | WrapupEnded] = []
        changed = False
        for e in batch:
            match e:
                case ev.CallerJoined():
                    self._queue(e.queue)[e.uniqueid] = Waiting(e.at, e.position)
                    changed = True
                case ev.WaitingCaller():
                    since = e.at.timestamp() - e.wait_s
                    self._queue(e.queue)[e.uniqueid] = Waiting(
                        datetime.fromtimestamp(since, e.at.tzinfo), e.position)
                    if self._snapshot is not None:
                        self._snapshot.add(e.uniqueid)
                    changed = True
                case ev.SnapshotDone() if self._snapshot is not None:
                    for callers in self.waiting.values():
                        for uid in [u for u in callers if u not in self._snapshot]:
                            del callers[uid]
                    self._snapshot = None
                    changed = True
                case _ if isinstance(e, GONE):
                    for callers in self.waiting.values():
                        changed |= callers.pop(e.uniqueid, None) is not None
            moves = self.tracker.apply(e)
            out.extend(moves)
            changed |= self._note(moves) or isinstance(e, ev.MemberState)
        if changed:
            self.version += 1
        return out

    def tick(self, now: datetime) -> list[Transition | WrapupEnded]:
        moves = self.tracker.tick(now)
        if self._note(moves):
            self.version += 1
        return moves

    def _queue(self, name: str) -> dict[str, Waiting]:
        return self.waiting.setdefault(name, {})

    def _note(self, moves: Sequence[Transition | WrapupEnded]) -> bool:
        transitions = [m for m in moves if isinstance(m, Transition)]
        for t in transitions:
            self.since[t.agent] = t.at
        return bool(transitions)

    def doc(self) -> dict[str, Any]:
        agents = []
        for name, a in sorted(self.tracker.agents.items()):
            if a.state == AgentState.LOGGED_OUT:
                continue
            since = self.since.get(name)
            agents.append({
                "agent": name, "state": a.state, "reason": a.reason,
                "since": since.isoformat() if since else None,
                "queues": sorted(a.queues),
                "paused_in": sorted(q for q, (paused, _) in a.queues.items() if paused),
                "pause_reason": {q: r for q, (p, r) in a.queues.items() if p},
                "call": a.on_call,
            })
        return {
            "version": self.version,
            "queues": {q: [{"uniqueid": uid, "since": w.since.isoformat(), "position": w.position}
                           for uid, w in sorted(callers.items(), key=lambda kv: kv[1].since)]
                       for q, callers in self.waiting.items()},
            "agents": agents,
        }


def queue_tiles(doc: Mapping[str, Any], today: Mapping[str, Summary], queues: Sequence[str],
                definitions: Definitions) -> list[dict[str, Any]]:
    """Per queue: waiting callers, agents by state, and today's figures (plain JSON), the
    rates by ``definitions``."""
    d = definitions
    tiles = []
    for q in queues:
        waiting = doc.get("queues", {}).get(q, [])
        counts = dict.fromkeys(("available", "ringing", "on_call", "wrapup", "paused"), 0)
        members = []
        for a in doc.get("agents", []):
            if q not in a["queues"]:
                continue
            state = "paused" if q in a["paused_in"] and a["state"] not in (
                "on_call", "ringing") else a["state"]
            counts[state] = counts.get(state, 0) + 1
            members.append({"agent": a["agent"], "state": state, "since": a["since"],
                            "reason": a["pause_reason"].get(q, "") if state == "paused" else ""})
        s = today.get(q)
        tiles.append({
            "queue": q,
            "waiting": len(waiting),
            "oldest_since": waiting[0]["since"] if waiting else None,
            "agents": counts,
            "members": members,
            "offered": s.offered if s else 0,
            "answered": s.answered if s else 0,
            "abandoned": s.abandoned if s else 0,
            "not_served": s.not_served if s else 0,
            "refused": s.refused if s else 0,
            "service_level": {str(t): (s.service_level(t, d.service_level) if s else None)
                              for t in d.thresholds_s},
            "abandon_rate": s.abandon_rate(d.abandon_rate) if s else None,
            "refused_rate": s.refused_rate if s else None,
            "asa_s": s.asa_s if s else None,
        })
    return tiles


def merge_boards(boards: Mapping[str, Mapping[str, Any]], up: Mapping[str, bool],
                 updated: Mapping[str, str]) -> dict[str, Any]:
    """One live picture from every node's published board (``boards``: node -> its ``doc()``).

    A node that is not ``up`` (its daemon stopped beating) contributes nothing: its waiting
    callers and agents are not left on the board as ghosts; ``nodes`` says which is down.
    Waiting callers keep their node and their place in that node's queue, oldest first; an
    agent seen on two nodes (logged in to queues on both) is one agent: on a call wherever it
    is on one, with the queues of both.
    """
    queues: dict[str, list[dict[str, Any]]] = {}
    agents: dict[str, dict[str, Any]] = {}
    for node in sorted(boards):
        if not up.get(node, False):
            continue
        doc = boards[node]
        for q, callers in doc.get("queues", {}).items():
            queues.setdefault(q, []).extend({**c, "node": node} for c in callers)
        for a in doc.get("agents", []):
            seen = agents.get(a["agent"])
            agents[a["agent"]] = ({**a, "node": node} if seen is None
                                  else _one_agent(seen, a, node))
    return {
        "queues": {q: sorted(c, key=lambda w: w["since"]) for q, c in queues.items()},
        "agents": [agents[name] for name in sorted(agents)],
        "nodes": [{"node": n, "up": up.get(n, False), "updated_at": updated.get(n)}
                  for n in sorted(boards)],
    }


def _one_agent(seen: dict[str, Any], other: Mapping[str, Any], node: str) -> dict[str, Any]:
    """``seen`` (an earlier node's entry, with its ``node``) and ``other`` (``node``'s) as one."""
    busy = (AgentState.ON_CALL, AgentState.RINGING)
    one = ({**other, "node": node} if other["state"] in busy and seen["state"] not in busy
           else dict(seen))
    one["queues"] = sorted(set(seen["queues"]) | set(other["queues"]))
    one["paused_in"] = sorted(set(seen["paused_in"]) | set(other["paused_in"]))
    one["pause_reason"] = {**other["pause_reason"], **seen["pause_reason"]}
    return one
