"""One timeline per agent from the state spans of several nodes (pure; docs/nodes.md).

With agents shared by several nodes (``frontdoor_agents``), each node's daemon keeps the
spans its own board sees (``agent_state_spans.node``): an agent talking on east is on a
call there and, at the same instant, available (or paused) on west. A reader wants one
state per agent at every instant and every second counted once, so at each instant the
agent is in the busiest of its nodes' states (``PRECEDENCE``, busiest first):

- ``on_call``: talking on any node is what the agent is doing;
- ``ringing``: a call is being offered (the live board, ``live.merge_boards``, also shows
  an agent ringing on one node as ringing);
- ``wrapup``: after-call work of a call just ended is handle time;
- ``paused``: a pause asked for on the desktop reaches every node (``node_commands``), so
  available on another node is that node not yet having carried it out;
- ``available``: idle everywhere it is logged in.

Two nodes in the same state: the span that began first stands (its reason, e.g. the pause
reason given first). Time an agent has a span on no node is not counted, as before.
An agent whose spans all come from one node is passed through untouched, so a single-node
center reads exactly what it always read.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from acd.slices import SpanRow
from acd.states import AgentState

PRECEDENCE = (AgentState.ON_CALL, AgentState.RINGING, AgentState.WRAPUP, AgentState.PAUSED,
              AgentState.AVAILABLE)
_RANK = {str(state): i for i, state in enumerate(PRECEDENCE)}

# agent, state, reason, started_at, ended_at (None: still in it), node
NodeSpanRow = tuple[str, str, str, datetime, datetime | None, str]


def rank(state: str) -> int:
    """0 for the busiest state; an unknown state ranks below every known one."""
    return _RANK.get(state, len(PRECEDENCE))


def merge(rows: Iterable[NodeSpanRow]) -> list[SpanRow]:
    """The spans of every node as one non-overlapping timeline per agent (``PRECEDENCE``);
    an agent seen on one node only keeps its spans as they are."""
    by_agent: dict[str, list[NodeSpanRow]] = {}
    for row in rows:
        by_agent.setdefault(row[0], []).append(row)
    out: list[SpanRow] = []
    for spans in by_agent.values():
        if len({r[5] for r in spans}) == 1:
            out.extend(r[:5] for r in spans)
        else:
            out.extend(_one_agent(spans))
    return out


def _one_agent(spans: list[NodeSpanRow]) -> list[SpanRow]:
    """One agent's spans on several nodes: cut at every start and end, each piece in the
    busiest state covering it, neighbouring pieces in one state and reason joined. A sweep
    over the cuts keeps the spans covering the current piece (a few: one per node)."""
    spans = sorted(spans, key=lambda r: r[3])
    cuts = sorted({r[3] for r in spans} | {r[4] for r in spans if r[4] is not None})
    ends: list[datetime | None] = [*cuts[1:], None]
    out: list[SpanRow] = []
    active: list[NodeSpanRow] = []
    nxt = 0
    for lo, hi in zip(cuts, ends, strict=True):
        while nxt < len(spans) and spans[nxt][3] <= lo:
            active.append(spans[nxt])
            nxt += 1
        active = [r for r in active if r[4] is None or r[4] > lo]
        if not active:
            continue
        best = min(active, key=lambda r: (rank(r[1]), r[3], r[5]))
        if out and out[-1][4] == lo and out[-1][1:3] == best[1:3]:
            agent, state, reason, t0, _ = out[-1]
            out[-1] = (agent, state, reason, t0, hi)
        else:
            out.append((best[0], best[1], best[2], lo, hi))
    return out
