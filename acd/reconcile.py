"""Fill any gap in the AMI stream from Asterisk's own queue_log, then its CDRs (idempotent).

Run on every (re)connection to AMI and on a timer. Records are keyed by uniqueid, so running
it twice, or over lines the live bridge already applied, never duplicates a call; where the
log and a record disagree about a finished call, the log wins (it is the ground truth).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from acd.cdr import CLOSED_FROM_CDR, channel_ends, close_ended
from acd.models import CallRecord, LogCursor, RingAttempt
from acd.queue_log import LoggedCall, calls_from_lines
from foundation.db import Database, utcnow

log = logging.getLogger(__name__)

# Re-read this much before the cursor: calls that were live at the last pass finish here.
OVERLAP_BYTES = 256 * 1024
FINAL_FIELDS = ("outcome", "wait_s", "talk_s", "agent", "ended_at", "exit_key", "hangup_side",
                "transfer_target")


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


def apply_logged(db: Database, calls: list[LoggedCall]) -> tuple[int, int]:
    created = updated = 0
    with db.session() as s:
        uids = [c.uniqueid for c in calls]
        known: dict[str, CallRecord] = {}
        for i in range(0, len(uids), 500):
            chunk = uids[i:i + 500]
            known.update({r.uniqueid: r for r in s.scalars(
                select(CallRecord).where(CallRecord.uniqueid.in_(chunk)))})
        for call in calls:
            rec = known.get(call.uniqueid)
            if rec is None:
                if not call.seen_enter and call.outcome is None:
                    continue  # a fragment of a call we know nothing else about yet
                rec = CallRecord(uniqueid=call.uniqueid, queue=call.queue,
                                 entered_at=call.entered_at, source="queue_log", hold_s=0.0,
                                 acw_s=0.0, caller_number=call.caller_number or None,
                                 ivr_path=call.ivr_path or None, position=call.position)
                s.add(rec)
                known[call.uniqueid] = rec
                created += 1
            elif call.outcome is None:
                filled = _fill_identity(rec, call)
                if rec.answered_at is None and call.answered_at is not None:
                    _answered(rec, call)
                    filled = True
                updated += filled
                continue
            elif not _differs(rec, call):
                updated += _fill_identity(rec, call)
                continue
            else:
                _fill_identity(rec, call)
                updated += 1
            if call.outcome is not None:
                if rec.notes == CLOSED_FROM_CDR:
                    rec.notes = None  # the log's own end replaces the CDR's
                for name in FINAL_FIELDS:
                    value = getattr(call, name)
                    if name in ("wait_s", "talk_s") and value is not None:
                        value = float(value)
                    if value is not None or name in ("exit_key", "transfer_target"):
                        setattr(rec, name, value if value != "" else None)
                rec.answered_at = rec.answered_at or call.answered_at
            elif call.answered_at is not None:
                _answered(rec, call)
            if not rec.ivr_path and call.ivr_path:
                rec.ivr_path = call.ivr_path
            if not rec.rings and call.rings:
                rec.rings = [RingAttempt(agent=a, ring_ms=ms, outcome=o, at=t)
                             for a, ms, o, t in call.rings]
    return created, updated


def _fill_identity(rec: CallRecord, call: LoggedCall) -> bool:
    """Who called and where they joined, when the live stream missed the join (a gap)."""
    filled = False
    if not rec.caller_number and call.caller_number:
        rec.caller_number, filled = call.caller_number, True
    if rec.position is None and call.seen_enter and call.position is not None:
        rec.position, filled = call.position, True
    return filled


def _answered(rec: CallRecord, call: LoggedCall) -> None:
    """A call the log shows connected but not yet finished (its outcome stays open)."""
    rec.answered_at, rec.agent = call.answered_at, call.agent
    if call.wait_s is not None:
        rec.wait_s = float(call.wait_s)


def _differs(rec: CallRecord, call: LoggedCall) -> bool:
    for name in FINAL_FIELDS:
        value = getattr(call, name)
        if value is None:
            continue
        current = getattr(rec, name)
        if name in ("wait_s", "talk_s"):
            if current is None or abs(float(current) - value) > 1e-6:
                return True
        elif name == "ended_at":
            if current is None:
                return True
        elif (current or "") != (value or ""):
            return True
    return False


def reconcile(db: Database, queue_log: Path, cdr: Path | None = None) -> ReconcileResult:
    """queue_log first; then the CDRs close what the log never ended (``acd/cdr.py``)."""
    lines, inode, end = read_new_lines(db, queue_log)
    calls = list(calls_from_lines(lines))
    created, updated = apply_logged(db, calls) if calls else (0, 0)
    _advance(db, "queue_log", inode, end)
    if created or updated:
        log.info("reconciled from queue_log: %d calls created, %d corrected", created, updated)
    closed: list[str] = []
    if cdr is not None:
        rows, inode, end = read_new_lines(db, cdr, "cdr")
        closed = close_ended(db, channel_ends(rows), utcnow()) if rows else []
        _advance(db, "cdr", inode, end)
    return ReconcileResult(len(lines), created, updated, len(closed))


def _advance(db: Database, name: str, inode: int, offset: int) -> None:
    with db.session() as s:
        cursor = s.get(LogCursor, name) or LogCursor(name=name)
        cursor.inode, cursor.offset, cursor.updated_at = inode, offset, utcnow()
        s.merge(cursor)
