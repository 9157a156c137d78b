"""Which of Twilio's copies of call recordings civic311 no longer needs: each recording
fetched from Twilio (``recordings/twilio_fetch.py``) whose call the catalog holds ``ok`` (the
file is in the data directory, its checksum recorded), and, for one the catalog could not
keep (failed, missing), Twilio's copy, the only one, once its queue's ``retention_days`` are
over, unless the recording is on legal hold. A call that moved into a Conference has two
copies at Twilio, the Dial's and the room's (``twilio_rooms``), each under the same rule.
Each is queued for deletion at Twilio (``foundation/twilio_deletions.py``, which deletes,
retries and logs it) once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation import twilio_deletions, twilio_rest
from foundation.erasure import ErasureKind
from recordings import policy_queries, twilio_rooms
from recordings.models import Recording, RecordingStatus, TwilioRecording


def queue_deletions(session: Session, queues: list[str], now: datetime) -> int:
    """Queue the deletion of every Twilio copy no longer needed; returns how many: the
    Dial's copy of each recording (queued for the recording's row), and the room's copy of
    a call that moved into a Conference (``twilio_rooms``: appended to the call's
    recording; queued for its ``twilio_recordings`` row, the recording's being taken)."""
    policies = policy_queries.load(session, queues)
    table, rooms = Recording.__tablename__, TwilioRecording.__tablename__
    dials = session.execute(
        select(Recording, TwilioRecording).join(
            TwilioRecording, TwilioRecording.uniqueid == Recording.uniqueid)
        .where(Recording.id.not_in(twilio_deletions.queued(table)))
        .order_by(Recording.id)).all()
    parts = session.execute(
        select(Recording, TwilioRecording).join(
            TwilioRecording,
            TwilioRecording.uniqueid == Recording.uniqueid + twilio_rooms.ROOM_SUFFIX)
        .where(TwilioRecording.id.not_in(twilio_deletions.queued(rooms)))
        .order_by(TwilioRecording.id)).all()
    queued = 0
    for rec, twilio, subject in ([(r, tw, (table, r.id)) for r, tw in dials]
                                 + [(r, tw, (rooms, tw.id)) for r, tw in parts]):
        reason = _no_longer_needed(rec, twilio, policies, now)
        if reason is None:
            continue  # Twilio's copy may be the only one: kept while the recording is
        sid = twilio.recording_sid or twilio_rest.recording_sid(twilio.url)
        what = ("call recording" if subject[0] == table
                else f"the room's part of call recording {rec.id}")
        twilio_deletions.enqueue(session, ErasureKind.CALL_RECORDING, subject[0], subject[1],
                                 sid, f"{what} {reason}", now)
        queued += 1
    return queued


def _no_longer_needed(rec: Recording, twilio: TwilioRecording,
                      policies: policy_queries.Loaded, now: datetime) -> str | None:
    """Why Twilio's copy may go (None: it is kept): the catalog holds the recording (and
    this copy was fetched into it), or the recording's retention is over."""
    if rec.status == RecordingStatus.OK and rec.path and twilio.status == "done":
        return "catalogued"
    days = (policies.get(rec.queue) or policy_queries.default(rec.queue)).retention_days
    if rec.legal_hold or rec.started_at >= now - timedelta(days=days):
        return None
    return f"not catalogued ({rec.status}) and kept {days} days"
