"""The timeout rule for a telephony node that never comes back (issue #17, docs/nodes.md).

A node's daemon closes its own cut-off calls when its Asterisk restarts
(``recorder.close_cut_calls``), and its queue_log fills in what it missed when it returns.
A node that never returns (its machine lost, or taken out of service) would leave its
waiting and answered callers open for ever: off the board (``live_store.nodes_down``), out
of every figure. Once its daemon's heartbeat (``daemon@<node>``; ``daemon`` for the default
node) is older than ``node_lost_after_s``, the worker closes them by the rule for every call
the system lost (``recorder.cut_off``) at that last heartbeat: the last moment the node was
known to carry them.

If the node does come back, its daemon reads the queue_log lines of the silence and the log
wins (``reconcile.LogRecorder._ends``): a caller the log shows answered or abandoned gets the
log's end, and this rule's note goes with it.
"""

from __future__ import annotations

import logging
from datetime import datetime

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


def lost_note(node: str, since: datetime) -> str:
    """The note on a call this rule closed: which node, silent since when (UTC)."""
    return f"node {node} silent since {since:%Y-%m-%d %H:%M:%S} UTC{NOTE_TAIL}"


def is_lost_note(notes: str | None) -> bool:
    """True for a note ``lost_note`` wrote."""
    return notes is not None and notes.startswith("node ") and notes.endswith(NOTE_TAIL)


def silent_nodes(s: Session, now: datetime, after_s: float) -> dict[str, datetime]:
    """node -> its daemon's last heartbeat, for each node whose daemon has been silent for
    more than ``after_s`` seconds. A node that never beat is not known here: nothing says
    since when it would be silent."""
    rows = s.scalars(select(Heartbeat).where(or_(Heartbeat.component == "daemon",
                                                 Heartbeat.component.like("daemon@%"))))
    silent: dict[str, datetime] = {}
    for row in rows:
        node = live_store.daemon_node(row.component)
        if node is not None and (now - row.updated_at).total_seconds() > after_s:
            silent[node] = row.updated_at
    return silent


def close_lost_calls(db: Database, now: datetime, after_s: float) -> dict[str, int]:
    """Close the open calls of every node silent for more than ``after_s`` seconds, at its
    last heartbeat; returns node -> calls closed (only nodes that had some). Running it again
    finds nothing open: idempotent."""
    closed: dict[str, int] = {}
    with db.session() as s:
        for node, since in sorted(silent_nodes(s, now, after_s).items()):
            lost = list(s.scalars(select(CallRecord).where(
                CallRecord.outcome.is_(None), CallRecord.node == node,
                CallRecord.source.in_(NODE_SOURCES))))
            note = lost_note(node, since)
            for rec in lost:
                cut_off(rec, since, note)
            if lost:
                closed[node] = len(lost)
                log.warning("node %s silent since %s (more than %d s): %d open calls closed "
                            "as cut off (%d answered, %d dropped)", node,
                            since.isoformat(timespec="seconds"), after_s, len(lost),
                            sum(r.answered_at is not None for r in lost),
                            sum(r.answered_at is None for r in lost))
    return closed


def jobs(settings: Settings, db: Database) -> list[Job]:
    """Look for lost nodes every minute (a call is closed at most a minute past the limit)."""
    return [Job("acd.node_lost",
                lambda: close_lost_calls(db, utcnow(), settings.node_lost_after_s),
                seconds=EVERY_S)]
