"""The timeout rule for a telephony node that never comes back (issue #17, docs/nodes.md).

A node's daemon closes its own cut-off calls when its Asterisk restarts
(``recorder.close_cut_calls``), and its queue_log fills in what it missed when it returns.
A node that never returns (its machine lost, or taken out of service) would leave its
waiting and answered callers open for ever: off the board (``live_store.nodes_down``), out
of every figure. A node is lost once, for longer than ``node_lost_after_s``, either its
daemon's heartbeat (``daemon@<node>``; ``daemon`` for the default node) has not been
written (the node's machine or its daemon is gone), or the daemon still beats but has not
reached its Asterisk (``ami_down_since`` in the heartbeat: the Asterisk is gone). The worker
then closes its open calls by the rule for every call the system lost
(``recorder.cut_off``) at that moment (the last beat, or the loss of the Asterisk): the last
moment the node was known to carry them; its agents' open state spans end then too.

If the node does come back, its daemon reads the queue_log lines of the silence and the log
wins (``reconcile.LogRecorder._ends``): a caller the log shows answered or abandoned gets the
log's end, and this rule's note goes with it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from acd import live_store
from acd.models import CallRecord
from acd.recorder import cut_off
from foundation.db import Database, utcnow
from foundation.heartbeat import Heartbeat
from foundation.jobs import Job
from foundation.settings import Settings

log = logging.getLogger(__name__)

EVERY_S = 60
NOTE_TAIL = ": closed by the node-lost timeout"
# the records a node's daemon makes (live and from its log); Twilio's calls and generated
# history have no node daemon behind them
NODE_SOURCES = ("ami", "queue_log")


class How(StrEnum):
    """How a node was lost (the words of its note)."""

    SILENT = "silent"  # its daemon stopped beating
    NO_ASTERISK = "without its Asterisk"  # its daemon beat on, reaching no Asterisk


@dataclass(frozen=True)
class Lost:
    """A lost node: since when, and how."""

    node: str
    since: datetime
    how: How


def lost_note(node: str, since: datetime, how: How = How.SILENT) -> str:
    """The note on a call this rule closed: which node, lost how and since when (UTC)."""
    return f"node {node} {how} since {since:%Y-%m-%d %H:%M:%S} UTC{NOTE_TAIL}"


def is_lost_note(notes: str | None) -> bool:
    """True for a note ``lost_note`` wrote."""
    return notes is not None and notes.startswith("node ") and notes.endswith(NOTE_TAIL)


def lost_nodes(s: Session, now: datetime, after_s: float) -> list[Lost]:
    """The nodes lost for more than ``after_s`` seconds, by name. A node that never beat is
    not known here: nothing says since when it would be lost."""
    rows = s.scalars(select(Heartbeat).where(or_(Heartbeat.component == "daemon",
                                                 Heartbeat.component.like("daemon@%"))))
    lost: list[Lost] = []
    for row in rows:
        node = live_store.daemon_node(row.component)
        if node is None:
            continue
        down = ami_down_since(row)  # its last beat said since when it has no Asterisk:
        if down is not None and (now - down).total_seconds() > after_s:  # lost from then,
            lost.append(Lost(node, down, How.NO_ASTERISK))  # whether it still beats or not
        elif (now - row.updated_at).total_seconds() > after_s:
            lost.append(Lost(node, row.updated_at, How.SILENT))
    return sorted(lost, key=lambda n: n.node)


def ami_down_since(row: Heartbeat) -> datetime | None:
    """Since when a daemon that beats has not been connected to its Asterisk (None: it is,
    or its heartbeat does not say)."""
    if row.ok:
        return None
    try:
        since = datetime.fromisoformat(json.loads(row.detail).get("ami_down_since") or "")
    except (ValueError, TypeError, AttributeError):
        return None
    return since if since.tzinfo else since.replace(tzinfo=UTC)


def close_lost_calls(db: Database, now: datetime, after_s: float) -> dict[str, int]:
    """Close the open calls of every node lost for more than ``after_s`` seconds, at the
    moment it was lost, and end its agents' open state spans at that same moment (other
    nodes' spans of the same agents stand); returns node -> calls closed (only nodes that
    had some). Running it again finds nothing open: idempotent."""
    closed: dict[str, int] = {}
    with db.session() as s:
        for lost in lost_nodes(s, now, after_s):
            calls = list(s.scalars(select(CallRecord).where(
                CallRecord.outcome.is_(None), CallRecord.node == lost.node,
                CallRecord.source.in_(NODE_SOURCES))))
            note = lost_note(lost.node, lost.since, lost.how)
            for rec in calls:
                cut_off(rec, lost.since, note)
            spans = live_store.close_node_spans(s, lost.node, lost.since)
            if calls:
                closed[lost.node] = len(calls)
            if calls or spans:
                log.warning("node %s %s since %s (more than %d s): %d open calls closed as "
                            "cut off (%d answered, %d dropped), %d agent state spans ended",
                            lost.node, lost.how.value,
                            lost.since.isoformat(timespec="seconds"), after_s, len(calls),
                            sum(r.answered_at is not None for r in calls),
                            sum(r.answered_at is None for r in calls), spans)
    return closed


def jobs(settings: Settings, db: Database) -> list[Job]:
    """Look for lost nodes every minute (a call is closed at most a minute past the limit)."""
    return [Job("acd.node_lost",
                lambda: close_lost_calls(db, utcnow(), settings.node_lost_after_s),
                seconds=EVERY_S)]
