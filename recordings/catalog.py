"""Catalog finished recordings: move each file from Asterisk's spool into the data directory
(by call uniqueid), record duration, size and checksum, and report the missing and failed.
Queue calls and agents' outbound calls alike (both recorded by MixMonitor under the same
policy: an outbound call's is that of the queue it was placed for), so both come under the
same retention and access audit; an outbound call's row has no ``call_id`` (no queue call).
The consultation of a desk phone's attended transfer is recorded on the consulted agent's
channel (``<caller uniqueid>-consult``) and filed with the caller's call. A Twilio call that
moved into a Conference has the room's recording appended to its own (``twilio_rooms``).

Run by the worker (``recordings.jobs``); idempotent: a call is catalogued once, and a file
moved but not yet committed (a crash in between) is found at its destination next time.

A recordings disk that is full (ENOSPC, EDQUOT) fails only the recordings that do not fit:
each is marked ``failed`` with the reason, its file stays in the spool (no half copy is left
on the full disk), and every later run tries it again, the same row, until there is room.
"""

from __future__ import annotations

import errno
import logging
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from acd import calls
from acd.calls import CallRecord
from acd.outbound import queries as outbound
from acd.outbound.models import OutboundCall
from foundation.settings import Settings
from recordings import policy_queries, twilio_fetch, twilio_rooms
from recordings.audio import RecordingDefect, inspect
from recordings.models import PROBLEMS, Recording, RecordingStatus
from recordings.policy import should_record

log = logging.getLogger(__name__)

SPOOL_SUBDIR = ("monitor", "civic311")  # MixMonitor(civic311/<uniqueid>.wav), relative
GRACE_S = 5.0  # Asterisk closes the file when the channel hangs up: wait a little
SETTLE_S = 2.0  # and never take a file written to in the last seconds
LOOKBACK = timedelta(days=3)  # calls ended longer ago are not catalogued any more
SHORT_TOLERANCE_S = 2.0  # a recording this much shorter than the talk time is "failed"
POLICY_SETTLE = timedelta(minutes=2)  # a policy change reaches Asterisk within this


@dataclass(frozen=True)
class Paths:
    data_dir: Path  # recordings live in <data_dir>/recordings/YYYY/MM/DD/<uniqueid>.wav
    spool_dir: Path  # Asterisk's spool (host path); MixMonitor writes under monitor/civic311

    @property
    def incoming(self) -> Path:
        return self.spool_dir.joinpath(*SPOOL_SUBDIR)

    def relative(self, uniqueid: str, at: datetime) -> str:
        return f"recordings/{at:%Y/%m/%d}/{uniqueid}.wav"

    def absolute(self, relative: str) -> Path:
        return self.data_dir / relative


def paths_for(settings: Settings) -> Paths:
    from telephony.install import locate

    return Paths(settings.data_dir, locate(settings).spool_dir)


def _safe_name(uniqueid: str) -> bool:
    return bool(uniqueid) and all(ch.isalnum() or ch in "._-" for ch in uniqueid) \
        and not uniqueid.startswith(".")


NO_ROOM = (errno.ENOSPC, errno.EDQUOT)
NO_ROOM_DETAIL = "no room on the recordings disk"  # the start of such a row's detail


def _waiting_for_room() -> ColumnElement[bool]:
    """Rows that failed for want of room: their file waits in the spool, tried each run."""
    return and_(Recording.status == RecordingStatus.FAILED, Recording.path.is_(None),
                Recording.detail.startswith(NO_ROOM_DETAIL))


@dataclass(frozen=True)
class Call:
    """What the catalog needs of a recorded call, a queue call's or an outbound one's."""

    uniqueid: str
    call_id: int | None  # the queue call's record; None for an outbound call
    queue: str
    agent: str | None
    ticket_number: str | None
    started_at: datetime
    ended_at: datetime | None
    talk_s: float | None
    source: str  # "ami", "twilio", ...: where the queue call's record came from


def _queue_call(c: CallRecord) -> Call:
    return Call(c.uniqueid, c.id, c.queue, c.agent, c.ticket_number,
                c.answered_at or c.entered_at, c.ended_at, c.talk_s, c.source)


def _outbound_call(c: OutboundCall) -> Call:
    return Call(c.uniqueid or "", None, c.queue or "", c.agent, None,
                c.started_at or c.requested_at, c.ended_at, c.talk_s, "ami")


def pending_calls(session: Session, now: datetime) -> list[Call]:
    """Answered calls, queued and outbound, ended between LOOKBACK and GRACE_S ago and not
    catalogued yet (or failed for want of room), oldest first."""
    done = select(Recording.uniqueid).where(~_waiting_for_room())
    since, until = now - LOOKBACK, now - timedelta(seconds=GRACE_S)
    found = [_queue_call(c) for c in calls.finished_answered(session, since, until, done)]
    found += [_outbound_call(c) for c in outbound.finished_answered(session, since, until,
                                                                    done)]
    return sorted(found, key=lambda c: c.ended_at or c.started_at)


CONSULT_SUFFIX = "-consult"  # <caller uniqueid>-consult.wav: civic311-consult-record


def pending_consults(session: Session, paths: Paths, now: datetime) -> list[Call]:
    """The consultations of attended transfers (a desk phone's, before its REFER) that
    Asterisk recorded and are not catalogued yet: each is filed with the caller's call
    (``call_id``), under the consulted agent. Only a file in the spool is one: a consultation
    the policy left out has none, and none is expected."""
    since, until = now - LOOKBACK, now - timedelta(seconds=GRACE_S)
    found = []
    for c in calls.finished_attended(session, since, until):
        uid = c.uniqueid + CONSULT_SUFFIX
        if not (paths.incoming / f"{uid}.wav").exists():
            continue
        target = c.transfer_target or ""
        agent = target.removeprefix("agent-") if target.startswith("agent-") else c.agent
        found.append(Call(uid, c.id, c.queue, agent, c.ticket_number,
                          c.transferred_at or c.answered_at or c.entered_at, c.ended_at, None,
                          c.source))
    done = set(session.scalars(select(Recording.uniqueid).where(
        Recording.uniqueid.in_([f.uniqueid for f in found]), ~_waiting_for_room())))
    return [f for f in found if f.uniqueid not in done]


def catalog(session: Session, paths: Paths, queues: list[str], now: datetime) -> Counter[str]:
    """Catalog every finished answered call not catalogued yet, and the recorded
    consultations of attended transfers; returns counts by status."""
    policies = policy_queries.load(session, queues)
    waiting = {r.uniqueid: r for r in session.scalars(select(Recording).where(
        _waiting_for_room()))}
    counts: Counter[str] = Counter()
    for call in pending_calls(session, now) + pending_consults(session, paths, now):
        if twilio_fetch.awaited(session, call.uniqueid, call.source, call.ended_at, now):
            continue  # Twilio's recording is still on its way (recordings/twilio_fetch.py)
        src = paths.incoming / f"{call.uniqueid}.wav"
        before = waiting.get(call.uniqueid)
        if before is not None and not src.exists():
            continue  # its file left the spool: the row stays as it is
        room = twilio_rooms.room_part(paths.incoming, call.uniqueid)
        if _safe_name(call.uniqueid) and any(
                f.exists() and f.stat().st_mtime > now.timestamp() - SETTLE_S
                for f in (src, room)):
            continue  # still being written: next run
        try:
            if call.source == "twilio" and _safe_name(call.uniqueid):
                twilio_rooms.join(paths.incoming, call.uniqueid)  # the rest of the call
            rec = _catalog_one(call, paths, policies, now)
        except Exception as exc:  # one file's trouble never stops the others
            if before is not None and _no_room(exc):
                continue  # still no room: the row already says so
            log.log(logging.WARNING if _no_room(exc) else logging.ERROR,
                    "recording of call %s could not be catalogued", call.uniqueid,
                    exc_info=not _no_room(exc))
            rec = _uncatalogued(call, now, _why(exc))
        if before is not None:  # room again: the same row, catalogued
            for column in ("status", "detail", "path", "duration_s", "size_bytes", "sha256",
                           "catalogued_at"):
                setattr(before, column, getattr(rec, column))
            rec = before
        session.add(rec)
        session.flush()
        counts[str(rec.status)] += 1
        if rec.status in PROBLEMS:
            log.warning("recording of call %s %s: %s", call.uniqueid, rec.status, rec.detail)
    _refresh_tickets(session, now)
    return counts


def _no_room(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in NO_ROOM


def _why(exc: BaseException) -> str:
    """The reason a file could not be catalogued, as the problems page shows it."""
    if isinstance(exc, OSError) and exc.errno in NO_ROOM:
        return (f"{NO_ROOM_DETAIL} ({errno.errorcode[exc.errno]}: {exc.strerror}); the file "
                "waits in Asterisk's spool and is catalogued once there is room")
    return f"could not be catalogued: {type(exc).__name__}: {exc}"[:500]


def _row(call: Call, now: datetime) -> Recording:
    return Recording(uniqueid=call.uniqueid, call_id=call.call_id, queue=call.queue,
                     agent=call.agent, ticket_number=call.ticket_number,
                     started_at=call.started_at, talk_s=call.talk_s,
                     status=RecordingStatus.OK, detail="", catalogued_at=now,
                     legal_hold=False, hold_reason="")


def _uncatalogued(call: Call, now: datetime, detail: str) -> Recording:
    """The row of a call whose file could not be handled: ``failed``, with the reason (the
    problems list shows it); the file, if any, is left where it was."""
    rec = _row(call, now)
    rec.status, rec.detail = RecordingStatus.FAILED, detail
    return rec


def _catalog_one(call: Call, paths: Paths, policies, now: datetime) -> Recording:  # type: ignore[no-untyped-def]
    started = call.started_at
    rec = _row(call, now)
    if not _safe_name(call.uniqueid):
        rec.status = RecordingStatus.FAILED
        rec.detail = "the call's uniqueid is not a safe file name"
        return rec
    relative = paths.relative(call.uniqueid, started)
    dest = paths.absolute(relative)
    src = paths.incoming / f"{call.uniqueid}.wav"
    if src.exists():
        dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            shutil.move(str(src), str(dest))  # a copy when the data directory is another disk
        except OSError:
            if src.exists():  # half a copy on a full disk: the spool keeps the whole file
                dest.unlink(missing_ok=True)
            raise
        dest.chmod(0o600)  # a caller's voice: for this service's user only
    if not dest.exists():
        policy = policies.get(call.queue) or policy_queries.default(call.queue)
        if policy.record_pct == 0:
            skipped = "the queue's policy is not to record"
        elif not should_record(policy, call.uniqueid):
            skipped = f"not in the {policy.record_pct}% sample"
        elif policy_queries.changed_since(policies, call.queue, started - POLICY_SETTLE):
            skipped = "the policy changed around this call"
        else:
            rec.status = RecordingStatus.MISSING
            rec.detail = (f"no recording from Asterisk although the policy ({policy.mode}, "
                          f"{policy.record_pct}%) says to record this call")
            return rec
        rec.status, rec.detail = RecordingStatus.SKIPPED, skipped
        return rec
    rec.path = relative
    try:
        facts = inspect(dest)
    except RecordingDefect as exc:
        rec.status, rec.detail = RecordingStatus.FAILED, str(exc)
        rec.size_bytes = dest.stat().st_size
        return rec
    rec.duration_s, rec.size_bytes, rec.sha256 = facts.duration_s, facts.size_bytes, facts.sha256
    if call.talk_s and facts.duration_s < call.talk_s - SHORT_TOLERANCE_S:
        rec.status = RecordingStatus.FAILED
        rec.detail = (f"the recording ({facts.duration_s:.1f} s) is shorter than the talk "
                      f"time ({call.talk_s:.1f} s)")
    return rec


def _refresh_tickets(session: Session, now: datetime) -> None:
    """A ticket is often opened after the call: link it once the call record has it."""
    unlinked = (Recording.ticket_number.is_(None), Recording.started_at >= now - LOOKBACK)
    numbers = calls.ticket_numbers(session, select(Recording.call_id).where(*unlinked))
    if not numbers:
        return
    for rec in session.scalars(select(Recording).where(
            *unlinked, Recording.call_id.in_(list(numbers)))):
        if rec.call_id is not None:  # it is: the query asked for known ids
            rec.ticket_number = numbers[rec.call_id]


ORPHAN_AGE = timedelta(hours=1)


def orphans(session: Session, paths: Paths, now: datetime, limit: int = 500) -> list[str]:
    """Files left in the spool an hour after they were last written that no answered call
    claims (its call record is missing or not answered): reported, never deleted here."""
    if not paths.incoming.is_dir():
        return []
    cutoff = (now - ORPHAN_AGE).timestamp()
    old = {f.stem: f for f in paths.incoming.glob("*.wav") if f.stat().st_mtime < cutoff}
    if not old:
        return []
    answered = calls.answered_uniqueids(session, old)
    return sorted(uid for uid in old if uid not in answered)[:limit]
