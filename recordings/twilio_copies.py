"""Which of Twilio's copies of call recordings civic311 no longer needs: each recording
fetched from Twilio (``recordings/twilio_fetch.py``) whose call the catalog holds ``ok`` (the
file is in the data directory, its checksum recorded), and, for one the catalog could not
keep (failed, missing), Twilio's copy, the only one, once its queue's ``retention_days`` are
over, unless the recording is on legal hold. Each is queued for deletion at Twilio
(``foundation/twilio_deletions.py``, which deletes, retries and logs it) once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation import twilio_deletions, twilio_rest
from foundation.erasure import ErasureKind
from recordings import policy_queries
from recordings.models import Recording, RecordingStatus, TwilioRecording


def queue_deletions(session: Session, queues: list[str], now: datetime) -> int:
    """Queue the deletion of every Twilio copy no longer needed; returns how many."""
    policies = policy_queries.load(session, queues)
    rows = session.execute(
        select(Recording, TwilioRecording).join(
            TwilioRecording, TwilioRecording.uniqueid == Recording.uniqueid)
        .where(Recording.id.not_in(twilio_deletions.queued(Recording.__tablename__)))
        .order_by(Recording.id)).all()
    queued = 0
    for rec, twilio in rows:
        if rec.status == RecordingStatus.OK and rec.path:
            reason = "catalogued"
        else:
            days = (policies.get(rec.queue) or policy_queries.default(rec.queue)).retention_days
            if rec.legal_hold or rec.started_at >= now - timedelta(days=days):
                continue  # Twilio's copy may be the only one: kept while the recording is
            reason = f"not catalogued ({rec.status}) and kept {days} days"
        sid = twilio.recording_sid or twilio_rest.recording_sid(twilio.url)
        twilio_deletions.enqueue(session, ErasureKind.CALL_RECORDING, Recording.__tablename__,
                                 rec.id, sid, f"call recording {reason}", now)
        queued += 1
    return queued
