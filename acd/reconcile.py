"""Fill any gap in the AMI stream from Asterisk's own queue_log, then its CDRs (idempotent).

Run on every (re)connection to AMI and on a timer. The log's lines become the same domain
events as AMI's (``acd.queue_log``) and the same recorder applies them, with the log's
rules (``LogRecorder``). Records are keyed by uniqueid and leg, so running it twice, or over lines
the live bridge already applied, never duplicates a call; where the log and a record
disagree about a finished call, the log wins (it is the ground truth).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from acd import events as ev
from acd import node_lost
from acd.cdr import CLOSED_FROM_CDR, channel_ends, close_ended
from acd.models import LogCursor, RingAttempt, table
from acd.queue_log import events_from_line
from acd.recorder import Recorder, Row
from acd.states import CallOutcome
from foundation import bulk
from foundation.db import Database, utcnow
from foundation.settings import DEFAULT_NODE

log = logging.getLogger(__name__)

# Re-read this much before the cursor: calls that were live at the last pass finish here.
OVERLAP_BYTES = 256 * 1024


@dataclass(frozen=True)
class ReconcileResult:
    lines: int
    created: int
    updated: int
    closed_from_cdr: int = 0


def read_new_lines(db: Database, path: Path, name: str = "queue_log") -> tuple[list[str], int, int]:
    """Lines from (cursor - overlap) to the end of the file; returns lines, inode, end offset."""
    if not path.exists():
        return [], 0, 0
    st = os.stat(path)
    with db.session() as s:
        cursor = s.get(LogCursor, name)
        start = 0
        if cursor is not None and cursor.inode == st.st_ino and cursor.offset <= st.st_size:
            start = max(0, cursor.offset - OVERLAP_BYTES)
    with path.open("rb") as fh:
        fh.seek(start)
        if start:
            fh.readline()  # drop the partial line we landed in
        data = fh.read()
    end = start + len(data)
    text = data.decode("utf-8", "replace")
    if not text.endswith("\n"):  # a line Asterisk is still writing: next time
        cut = text.rfind("\n") + 1
        end -= len(text[cut:].encode("utf-8"))
        text = text[:cut]
    return text.splitlines(), st.st_ino, end


class LogRecorder(Recorder):
    """The recorder with the log's rules: queue_log events fill what a record lacks, and
    where the log's end of a call differs from the record, the log's figures replace it.

    Lines are re-read (``OVERLAP_BYTES``), so every rule is idempotent. A fragment (events
    of a call whose join lies before the lines read and which the records do not know) is
    held until the batch shows the call's join or end, and dropped if it never does.
    """

    def __init__(self, node: str = DEFAULT_NODE) -> None:
        super().__init__(None, node)
        self.held: dict[str, list[Any]] = {}
        self.rings_of: dict[int, list[tuple[str, str, float]]] = {}  # the records' own rings

    def _begin(self, conn: Any, rows: list[Row]) -> None:
        ids = [r.call_id for r in rows if r.call_id is not None]
        self.rings_of, self.held = {}, {}
        for ring in bulk.rows_where_in(conn, table(RingAttempt), ("call_id", "agent", "outcome",
                                                                  "at"), "call_id", ids):
            self.rings_of.setdefault(ring.call_id, []).append(
                (ring.agent, ring.outcome, _epoch(ring.at)))

    def _logged(self, s: Session, known: dict[str, Row], e: Any, entered: datetime) -> Row:
        """The record of ``e``'s call, created from the log (with the call's held events)."""
        if e.uniqueid in known:
            return known[e.uniqueid]
        rec = self._record(s, known, e.uniqueid, e.queue, entered, "queue_log")
        for held in self.held.pop(e.uniqueid, ()):
            self.RULES[type(held)](self, s, known, held)
        return rec

    def _hold(self, known: dict[str, Row], e: Any) -> bool:
        """True (and kept for later) when ``e`` belongs to a call not known yet."""
        if e.uniqueid in known:
            return False
        self.held.setdefault(e.uniqueid, []).append(e)
        return True

    def _ring(self, rec: Row, agent: str, ring_ms: int, outcome: str, at: datetime) -> None:
        """A ring attempt the record does not hold yet (the live stream's clock is finer
        than the log's whole seconds, so the same attempt is within a second)."""
        t = _epoch(at)
        have = self.rings_of.get(rec.call_id, []) if rec.call_id is not None else []
        if any(a == agent and o == outcome and abs(t - ts) <= 1 for a, o, ts in have) or any(
                r["agent"] == agent and r["outcome"] == outcome and r["at"] == at
                for r in rec.rings):
            return
        rec.rings.append({"agent": agent, "ring_ms": ring_ms, "outcome": outcome, "at": at})

    def _joined(self, s: Session, known: dict[str, Row], e: ev.CallerJoined) -> None:
        rec = self._logged(s, known, e, e.at)
        if not rec.caller_number and e.caller_number:
            rec.caller_number = e.caller_number
        if rec.position is None:
            rec.position = e.position

    def _ivr_path(self, s: Session, known: dict[str, Row], e: ev.IvrPathSet) -> None:
        if not self._hold(known, e):
            known[e.uniqueid].ivr_path = known[e.uniqueid].ivr_path or e.path or None

    def _no_answer(self, s: Session, known: dict[str, Row], e: ev.AgentNoAnswer) -> None:
        if not self._hold(known, e):
            self._ring(known[e.uniqueid], e.agent, e.ring_ms, "noanswer", e.at)

    def _answered(self, s: Session, known: dict[str, Row], e: ev.CallAnswered) -> None:
        if self._hold(known, e):
            return
        rec = known[e.uniqueid]
        if rec.answered_at is None:
            rec.answered_at = e.at
            if rec.outcome is None:  # still talking: the log says who and after how long
                rec.agent, rec.wait_s = e.agent, float(e.wait_s)
        self._ring(rec, e.agent, e.ring_s * 1000, "connected", e.at)

    def _transferred(self, s: Session, known: dict[str, Row], e: ev.CallTransferred) -> None:
        if not self._hold(known, e):  # fills what the live stream did not see (its
            rec = known[e.uniqueid]     # target names the destination better than the log)
            rec.transfer_target = rec.transfer_target or e.target or None
            rec.transfer_kind = rec.transfer_kind or e.kind
            rec.transferred_at = rec.transferred_at or e.at

    def _completed(self, s: Session, known: dict[str, Row], e: ev.CallCompleted) -> None:
        answered = e.at - timedelta(seconds=e.talk_s)
        rec = self._logged(s, known, e, answered - timedelta(seconds=e.wait_s))
        target = rec.transfer_target if e.hangup_side == "transfer" else None
        if self._ends(rec, outcome=CallOutcome.ANSWERED, agent=e.agent, wait_s=e.wait_s,
                      talk_s=e.talk_s, ended_at=e.at, hangup_side=e.hangup_side,
                      exit_key=None, transfer_target=target):
            rec.answered_at = rec.answered_at or answered

    def _abandoned(self, s: Session, known: dict[str, Row], e: ev.CallAbandoned) -> None:
        rec = self._logged(s, known, e, e.at - timedelta(seconds=e.wait_s))
        self._ends(rec, outcome=CallOutcome.ABANDONED, wait_s=e.wait_s, ended_at=e.at,
                   hangup_side="caller", exit_key=None, transfer_target=None)

    def _exited(self, s: Session, known: dict[str, Row], e: ev.CallExited) -> None:
        rec = self._logged(s, known, e, e.at - timedelta(seconds=e.wait_s or 0))
        self._ends(rec, outcome=e.outcome, wait_s=e.wait_s, ended_at=e.at, exit_key=e.key,
                   transfer_target=None)

    def _booked(self, s: Session, known: dict[str, Row], e: ev.CallbackBooked) -> None:
        if not self._hold(known, e):  # left by a key first: that line made the record
            rec = known[e.uniqueid]
            self._ends(rec, outcome=CallOutcome.CALLBACK, ended_at=rec.ended_at or e.at)

    def _refused(self, s: Session, known: dict[str, Row], e: ev.CallRefused) -> None:
        rec = self._logged(s, known, e, e.at)
        rec.caller_number = rec.caller_number or e.caller_number or None
        rec.ivr_path = rec.ivr_path or e.ivr_path or None
        if self._ends(rec, outcome=CallOutcome.REFUSED, wait_s=0, ended_at=e.at, exit_key=None,
                      transfer_target=None):
            rec.notes = rec.notes or e.reason or None

    @staticmethod
    def _ends(rec: Row, **final: Any) -> bool:
        """The log's end of the call replaces the record's where they differ (None: the log
        does not say). An end time differs only when the record has none: the live stream's
        is finer than the log's whole seconds. True when the record took the log's end."""
        if not any(_differs(getattr(rec, name), value, name) for name, value in final.items()):
            return False
        if rec.notes == CLOSED_FROM_CDR or node_lost.is_lost_note(rec.notes):
            rec.notes = None  # the log's own end replaces the CDR's or the lost node's
        for name, value in final.items():
            if value is not None or name in ("exit_key", "transfer_target"):
                if name in ("wait_s", "talk_s"):
                    value = float(value)
                setattr(rec, name, value if value != "" else None)
        return True


def _epoch(at: datetime) -> float:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def _differs(current: Any, value: Any, name: str) -> bool:
    if value is None:
        return False
    if name in ("wait_s", "talk_s"):
        return current is None or abs(float(current) - float(value)) > 1e-6
    if name == "ended_at":
        return current is None
    return bool((current or "") != (value or ""))


LogRecorder.RULES = {
    ev.CallerJoined: LogRecorder._joined, ev.IvrPathSet: LogRecorder._ivr_path,
    ev.AgentNoAnswer: LogRecorder._no_answer, ev.CallAnswered: LogRecorder._answered,
    ev.CallTransferred: LogRecorder._transferred, ev.CallCompleted: LogRecorder._completed,
    ev.CallAbandoned: LogRecorder._abandoned, ev.CallExited: LogRecorder._exited,
    ev.CallbackBooked: LogRecorder._booked, ev.CallRefused: LogRecorder._refused,
}


def cursor_name(file: str, node: str = DEFAULT_NODE) -> str:
    """The log cursor of one node's file: ``queue_log`` for the default node (as a
    single-node center has always named it), ``<node>:queue_log`` for another."""
    return file if node == DEFAULT_NODE else f"{node}:{file}"


def apply_log(db: Database, lines: Iterable[str], node: str = DEFAULT_NODE) -> tuple[int, int]:
    """Apply queue_log lines to the records (log wins); returns (created, updated)."""
    recorder = LogRecorder(node)
    with db.session() as s:
        recorder.apply_in(s, [e for line in lines for e in events_from_line(line)])
    return recorder.created, recorder.updated


def reconcile(db: Database, queue_log: Path, cdr: Path | None = None,
              node: str = DEFAULT_NODE) -> ReconcileResult:
    """queue_log first; then the CDRs close what the log never ended (``acd/cdr.py``).

    ``node`` is the telephony node whose Asterisk wrote these files: its own cursors, and
    the node of the records the log creates."""
    name = cursor_name("queue_log", node)
    lines, inode, end = read_new_lines(db, queue_log, name)
    created, updated = apply_log(db, lines, node)
    _advance(db, name, node, inode, end)
    if created or updated:
        log.info("reconciled from queue_log: %d calls created, %d corrected", created, updated)
    closed: list[str] = []
    if cdr is not None:
        name = cursor_name("cdr", node)
        rows, inode, end = read_new_lines(db, cdr, name)
        closed = close_ended(db, channel_ends(rows), utcnow()) if rows else []
        _advance(db, name, node, inode, end)
    return ReconcileResult(len(lines), created, updated, len(closed))


def _advance(db: Database, name: str, node: str, inode: int, offset: int) -> None:
    with db.session() as s:
        cursor = s.get(LogCursor, name) or LogCursor(name=name, node=node)
        cursor.inode, cursor.offset, cursor.updated_at = inode, offset, utcnow()
        s.merge(cursor)
