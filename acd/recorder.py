"""Applies domain events to call records, in batches, idempotently (keyed by uniqueid and leg).

A caller's uniqueid has one record per queue entry (``leg``: a blind transfer into a queue
keeps the channel, and QueueMetrics counts the new entry as its own queued call). Each event
is routed to its leg first (``route``): a join that is not a known entry starts a new leg;
other events go to the newest leg of their queue.

Runs in one worker thread of the daemon; every method is plain synchronous SQLAlchemy.
Any event may arrive for a call we never saw join (the daemon was down when it did):
the record is then created from what the event knows, and reconciliation completes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from acd import events as ev
from acd import transfer
from acd.models import CallRecord, RingAttempt, table
from acd.states import CallOutcome
from foundation import bulk, limits
from foundation.db import Database
from foundation.settings import DEFAULT_NODE

log = logging.getLogger(__name__)

# The columns the recorder writes; a batch is read and written as plain rows (Core
# executemany), never as ORM objects: at full AMI speed the ORM's bookkeeping dominated.
FIELDS = ("uniqueid", "leg", "linkedid", "channel", "caller_number", "caller_name", "queue",
          "entered_at", "position", "ivr_path", "answered_at", "ended_at", "wait_s", "talk_s",
          "hold_s", "acw_s", "agent", "outcome", "exit_key", "transfer_target",
          "transfer_kind", "transferred_at", "hangup_side", "source", "notes", "node")
RING_FIELDS = ("call_id", "agent", "ring_ms", "outcome", "at")
# Text from the edge (a caller name typed into a phone, a channel name) is clipped to its
# column and its control characters made spaces: Asterisk passes on whatever the caller's
# side sent, and one over-long or NUL-holding name used to fail the whole batch's write.
# (the uniqueid is the record's key and Asterisk's own short id: never rewritten)
TEXT_LIMITS = limits.fitter(CallRecord, [f for f in FIELDS if f != "uniqueid"])
RING_TEXT_LIMITS = limits.fitter(RingAttempt, RING_FIELDS)


class Row:
    """A call record being changed by a batch; ``rings`` holds its new ring attempts."""

    uniqueid: str
    leg: int
    linkedid: str | None
    channel: str | None
    caller_number: str | None
    caller_name: str | None
    queue: str
    entered_at: datetime
    position: int | None
    ivr_path: str | None
    answered_at: datetime | None
    ended_at: datetime | None
    wait_s: float | None
    talk_s: float | None
    hold_s: float | None
    acw_s: float
    agent: str | None
    outcome: str | None
    exit_key: str | None
    transfer_target: str | None
    transfer_kind: str | None
    transferred_at: datetime | None
    hangup_side: str | None
    source: str
    notes: str | None
    node: str

    def __init__(self, values: dict[str, Any], call_id: int | None) -> None:
        self.__dict__.update(values)
        self.call_id = call_id
        self.rings: list[dict[str, Any]] = []
        self.before = dict(values)

    def values(self) -> dict[str, Any]:
        return {f: self.__dict__[f] for f in FIELDS}

    @property
    def changed(self) -> bool:
        return self.call_id is None or self.values() != self.before


Handler = Callable[[Any, Session, dict[str, Row], Any], None]


class Recorder:
    """The live rules: each event from the edge (AMI, Twilio) moves its call forward.

    ``RULES`` maps an event type to the method that applies it; a subclass with other rules
    (``acd.reconcile.LogRecorder``: the log's figures win) shares the reading and writing.
    """

    RULES: dict[type, Handler]

    def __init__(self, db: Database | None, node: str = DEFAULT_NODE) -> None:
        self.db = db
        self.node = node  # the telephony node whose events these are: stored on new records
        self.pending_ivr: dict[str, str] = {}
        self.applied = 0
        self.created = self.updated = 0  # records inserted / changed, over the recorder's life
        self.on_hold: dict[str, datetime] = {}  # uniqueid -> since when (an open Hold)
        self.legs: dict[str, list[Row]] = {}  # the batch's records: uniqueid -> its legs

    def apply_batch(self, batch: Sequence[ev.DomainEvent]) -> None:
        if self.db is None:
            raise RuntimeError("a recorder without a database applies only in a session")
        with self.db.session() as s:
            self.apply_in(s, batch)

    def apply_in(self, s: Session, batch: Sequence[ev.DomainEvent]) -> None:
        """Apply a batch inside the caller's transaction (the daemon adds its own writes)."""
        rules = self.RULES
        relevant: list[Any] = [e for e in batch if type(e) in rules]  # all carry a uniqueid
        if not relevant:
            return
        conn = s.connection()
        legs: dict[str, list[Row]] = {}
        self.legs = legs
        for row in bulk.rows_where_in(conn, table(CallRecord), ("id", *FIELDS), "uniqueid",
                                      {e.uniqueid for e in relevant}):
            values = row._asdict()
            legs.setdefault(values["uniqueid"], []).append(
                Row({f: values[f] for f in FIELDS}, values["id"]))
        for rows in legs.values():
            rows.sort(key=lambda r: r.leg)
        self._begin(conn, [r for rows in legs.values() for r in rows])
        known: dict[str, Row] = {}  # uniqueid -> the leg the event at hand belongs to
        for e in relevant:  # one dict lookup: a match on ten classes cost more at speed
            route(legs, known, e)
            rules[type(e)](self, s, known, e)
        self._write(conn, [r for rows in legs.values() for r in rows])
        self.applied += len(relevant)

    def _begin(self, conn: Any, rows: list[Row]) -> None:
        """Called once a batch's records are read, before its events apply (a rules hook)."""

    def _write(self, conn: Any, rows: list[Row]) -> None:
        """New and changed records in one upsert; new ring attempts in one insert; a call
        referred out counts as a referral unless the agent already chose its call type."""
        todo = [r for r in rows if r.changed]
        self.created += sum(r.call_id is None for r in todo)
        self.updated += sum(r.call_id is not None for r in todo)
        self.updated += sum(bool(r.rings) for r in rows if r.call_id is not None and not r.changed)
        by_key = {(r.uniqueid, r.leg): r for r in todo}
        for call_id, uid, leg in bulk.insert_rows(
                conn, table(CallRecord), FIELDS,
                [limits.fit_row(TEXT_LIMITS, r.values()) for r in todo],
                upsert_on=("uniqueid", "leg"), returning=("id", "uniqueid", "leg")):
            by_key[(uid, leg)].call_id = call_id
        attempts = [limits.fit_row(RING_TEXT_LIMITS, {**a, "call_id": r.call_id})
                    for r in rows for a in r.rings]
        bulk.insert_rows(conn, table(RingAttempt), RING_FIELDS, attempts)
        referred = [{"cid": r.call_id} for r in todo if r.before.get("transfer_target")
                    != r.transfer_target and transfer.is_referral(r.transfer_target)]
        if referred:  # its own statement: the wrap-up (web) writes call_type, never the batch
            calls = table(CallRecord)
            conn.execute(update(calls).where(calls.c.id == bindparam("cid"),
                                             calls.c.call_type.is_(None))
                         .values(call_type=transfer.REFERRAL_CALL_TYPE), referred)

    def _record(self, s: Session, known: dict[str, Row], uid: str, queue: str,
                entered: object, source: str = "ami") -> Row:
        rec = known.get(uid)
        if rec is None:  # a new entry of this caller: the next leg
            legs = self.legs.setdefault(uid, [])
            values: dict[str, Any] = dict.fromkeys(FIELDS)
            values.update(uniqueid=uid, leg=legs[-1].leg + 1 if legs else 1, queue=queue,
                          entered_at=entered, acw_s=0.0,
                          hold_s=0.0 if source == "ami" else None,  # only AMI reports hold
                          source=source, ivr_path=self.pending_ivr.pop(uid, None),
                          node=self.node)
            rec = known[uid] = Row(values, None)
            legs.append(rec)
        return rec

    def _ivr_path(self, s: Session, known: dict[str, Row], e: ev.IvrPathSet) -> None:
        if e.uniqueid in known:
            rec = known[e.uniqueid]
            rec.ivr_path = rec.ivr_path or e.path or None
        elif e.path:
            self.pending_ivr[e.uniqueid] = e.path

    def _joined(self, s: Session, known: dict[str, Row], e: ev.CallerJoined) -> None:
        rec = self._record(s, known, e.uniqueid, e.queue, e.at, e.source)
        rec.ivr_path = rec.ivr_path or self.pending_ivr.pop(e.uniqueid, None)  # a replay
        rec.linkedid, rec.channel = e.linkedid or None, e.channel or None
        rec.caller_number = e.caller_number or None
        rec.caller_name = e.caller_name or None
        rec.position = e.position
        rec.entered_at = min(rec.entered_at, e.at)

    def _waiting(self, s: Session, known: dict[str, Row], e: ev.WaitingCaller) -> None:
        rec = self._record(s, known, e.uniqueid, e.queue, e.at - timedelta(seconds=e.wait_s),
                           e.source)
        rec.caller_number = rec.caller_number or e.caller_number or None

    def _no_answer(self, s: Session, known: dict[str, Row], e: ev.AgentNoAnswer) -> None:
        rec = self._record(s, known, e.uniqueid, e.queue, e.at)
        rec.rings.append({"agent": e.agent, "ring_ms": e.ring_ms, "outcome": "noanswer",
                          "at": e.at})

    def _answered(self, s: Session, known: dict[str, Row], e: ev.CallAnswered) -> None:
        rec = self._record(s, known, e.uniqueid, e.queue, e.at - timedelta(seconds=e.wait_s),
                           e.source)
        if e.source != "ami" and not e.agent:  # an edge's report of a queue leg over (Twilio
            # without civic311's ACD): it is answered, by nobody it knows
            if rec.outcome is None and rec.answered_at is None:
                rec.outcome, rec.answered_at = CallOutcome.ANSWERED, e.at
                rec.wait_s = float(e.wait_s)
            return
        rec.answered_at, rec.agent, rec.wait_s = e.at, e.agent, float(e.wait_s)
        if rec.hold_s is None and e.source == "twilio":  # civic311's ACD on Twilio measures
            rec.hold_s = 0.0  # hold (acd.twilio_acd.conference)
        rec.rings.append({"agent": e.agent, "ring_ms": e.ring_s * 1000, "outcome": "connected",
                          "at": e.at})

    def _completed(self, s: Session, known: dict[str, Row], e: ev.CallCompleted) -> None:
        rec = self._record(s, known, e.uniqueid, e.queue,
                           e.at - timedelta(seconds=e.wait_s + e.talk_s), e.source)
        if e.source != "ami" and not e.agent:  # such an edge's hang-up: it ends an answered
            # call still open
            if rec.answered_at is not None and rec.ended_at is None:
                rec.outcome, rec.talk_s, rec.ended_at = CallOutcome.ANSWERED, e.talk_s, e.at
            return
        rec.outcome, rec.agent = CallOutcome.ANSWERED, e.agent
        self._held(s, known, ev.CallHeld(e.at, e.uniqueid, False))  # ended while on hold
        rec.wait_s, rec.talk_s = float(e.wait_s), float(e.talk_s)
        rec.answered_at = rec.answered_at or e.at - timedelta(seconds=e.talk_s)
        rec.ended_at, rec.hangup_side = e.at, e.hangup_side
        if rec.transferred_at is not None:  # the agent hung up to hand an attended transfer on
            rec.hangup_side = "transfer"

    def _abandoned(self, s: Session, known: dict[str, Row], e: ev.CallAbandoned) -> None:
        rec = self._record(s, known, e.uniqueid, e.queue, e.at - timedelta(seconds=e.wait_s),
                           e.source)
        if rec.outcome is None and rec.answered_at is None:
            rec.outcome, rec.wait_s, rec.ended_at = CallOutcome.ABANDONED, float(e.wait_s), e.at
            rec.hangup_side = "caller" if e.source == "ami" else None

    def _exited(self, s: Session, known: dict[str, Row], e: ev.CallExited) -> None:
        rec = self._record(s, known, e.uniqueid, e.queue, e.at)
        if rec.outcome in (None, CallOutcome.ABANDONED) and rec.answered_at is None:
            rec.outcome, rec.exit_key, rec.hangup_side = e.outcome, e.key, None
            rec.ended_at = e.at
            if rec.wait_s is None:  # stated by the edge (Twilio), else app_queue's arithmetic
                rec.wait_s = (float(e.wait_s) if e.wait_s is not None  # whole-second clocks:
                              else float(int(e.at.timestamp()) - int(rec.entered_at.timestamp())))

    def _refused(self, s: Session, known: dict[str, Row], e: ev.CallRefused) -> None:
        rec = self._record(s, known, e.uniqueid, e.queue, e.at)
        rec.outcome, rec.wait_s, rec.ended_at = CallOutcome.REFUSED, 0.0, e.at
        rec.caller_number = rec.caller_number or e.caller_number or None
        rec.ivr_path = rec.ivr_path or e.ivr_path or None
        rec.notes = e.reason

    def _transferred(self, s: Session, known: dict[str, Row], e: ev.CallTransferred) -> None:
        rec = known.get(e.uniqueid)
        if rec is not None and rec.answered_at is not None and rec.transferred_at is None:
            rec.transfer_target = e.target or None
            rec.transfer_kind, rec.transferred_at = e.kind, e.at
            if rec.ended_at is not None:  # the agent leg's end came first: the transfer ended it
                rec.hangup_side = "transfer"

    def _held(self, s: Session, known: dict[str, Row], e: ev.CallHeld) -> None:
        """Hold time of a connected call, from each Hold to its Unhold (or the call's end);
        a repeated Hold keeps the first start. Part of the talk time, as app_queue counts."""
        rec = known.get(e.uniqueid)
        if rec is None or rec.answered_at is None or rec.hold_s is None:
            return
        if e.held:
            if rec.ended_at is None:
                self.on_hold.setdefault(e.uniqueid, e.at)
        elif (since := self.on_hold.pop(e.uniqueid, None)) is not None:
            rec.hold_s += max(0.0, (e.at - since).total_seconds())


# a leg's entry time as the live stream (fine clock) and the log (whole seconds) state it
SAME_ENTRY_S = 1.5
STARTS = (ev.CallerJoined, ev.CallRefused)  # events that begin a queue entry


def route(legs: dict[str, list[Row]], known: dict[str, Row], e: Any) -> None:
    """Point ``known[e.uniqueid]`` at the leg ``e`` belongs to, or drop it (a new entry,
    or a call not known yet).

    A join (or a refusal at join) is the entry of that queue at that time if one is known,
    the newest leg if it is still open in that queue, else a new leg. Any other event goes
    to the newest leg of its queue that entered before it (the newest of its queue when the
    clocks disagree), or, when it names no queue, to the newest leg; a transfer naming no
    queue goes to the newest answered leg (Asterisk may report the caller's entry into the
    transfer's queue before the BlindTransfer event of a desk phone's REFER); an IVR path once the
    newest leg is answered or over is the path into an entry not made yet (a blind transfer's
    caller re-enters before the agent's leg is reported over), and waits for it.
    """
    rows = legs.get(e.uniqueid)
    rec: Row | None = None
    if rows:
        queue = getattr(e, "queue", "")
        if isinstance(e, STARTS):
            rec = next((r for r in rows if r.queue == queue and abs(
                (r.entered_at - e.at).total_seconds()) <= SAME_ENTRY_S), None)
            if rec is None and rows[-1].queue == queue and rows[-1].answered_at is None \
                    and rows[-1].ended_at is None:
                rec = rows[-1]
        elif queue:
            mine = [r for r in rows if r.queue == queue]
            before = [r for r in mine if (r.entered_at - e.at).total_seconds() <= SAME_ENTRY_S]
            rec = (before or mine)[-1] if mine else None
        elif isinstance(e, ev.CallTransferred):  # AMI's names no queue: always a connected leg
            rec = next((r for r in reversed(rows) if r.answered_at is not None), None)
        elif not (isinstance(e, ev.IvrPathSet) and (rows[-1].answered_at is not None
                                                    or rows[-1].ended_at is not None)):
            rec = rows[-1]
    if rec is None:
        known.pop(e.uniqueid, None)
    else:
        known[e.uniqueid] = rec


APPLY: dict[type, Handler] = {
    ev.IvrPathSet: Recorder._ivr_path, ev.CallerJoined: Recorder._joined,
    ev.WaitingCaller: Recorder._waiting, ev.AgentNoAnswer: Recorder._no_answer,
    ev.CallAnswered: Recorder._answered, ev.CallCompleted: Recorder._completed,
    ev.CallAbandoned: Recorder._abandoned, ev.CallExited: Recorder._exited,
    ev.CallRefused: Recorder._refused, ev.CallTransferred: Recorder._transferred,
    ev.CallHeld: Recorder._held,
}
Recorder.RULES = APPLY
RECORD_EVENTS = tuple(APPLY)  # the events that change a call record


def apply_events(s: Session, batch: Sequence[ev.DomainEvent],
                 on_hold: Mapping[str, datetime] | None = None) -> None:
    """Apply ``batch`` inside ``s`` with a one-off recorder (an edge other than the daemon);
    ``on_hold``: the calls on hold since when (an edge whose Hold and Unhold come in two
    requests, Twilio's conference callbacks, keeps the open hold itself)."""
    recorder = Recorder(None)
    recorder.on_hold.update(on_hold or {})
    recorder.apply_in(s, batch)


def close_cut_calls(db: Database, boot: datetime, node: str = DEFAULT_NODE) -> int:
    """Close ``node``'s calls still open that entered before its Asterisk's (re)boot: it cut
    them off (another node's calls are that node's own). ``cut_off`` says how."""
    with db.session() as s:
        cut = list(s.scalars(select(CallRecord).where(
            CallRecord.outcome.is_(None), CallRecord.entered_at < boot,
            CallRecord.node == node)))
        for rec in cut:
            cut_off(rec, boot)
        return len(cut)


def cut_off(rec: CallRecord, end: datetime, note: str | None = None) -> None:
    """Close an open record whose call the system lost at ``end`` with no party's end known
    (an Asterisk restart, a CDR without a queue_log end, a node that never came back).

    Answered ones end then (never before their answer), talk time in app_queue's whole
    seconds; waiting ones are ``dropped``: offered, neither answered nor abandoned by the
    caller. The hang-up side is ``system``; ``note`` (when given) says why.
    """
    end = max(end, rec.answered_at or rec.entered_at)
    rec.ended_at, rec.hangup_side = end, "system"
    if note is not None:
        rec.notes = note
    if rec.answered_at is not None:
        rec.outcome = CallOutcome.ANSWERED
        rec.talk_s = float(int(end.timestamp()) - int(rec.answered_at.timestamp()))
    else:
        rec.outcome = CallOutcome.DROPPED
        rec.wait_s = float(int(end.timestamp()) - int(rec.entered_at.timestamp()))


def open_uniqueids(db: Database, node: str = DEFAULT_NODE) -> Iterable[str]:
    with db.session() as s:
        return list(s.scalars(select(CallRecord.uniqueid).where(
            CallRecord.outcome.is_(None), CallRecord.node == node)))
