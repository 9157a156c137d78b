"""Recordings of calls taken on Twilio: the Dial records both parties on two channels
(``record-from-answer-dual``), and a call that moved into a Conference (a hold, a consult)
has the room's recording for the rest (``twilio_rooms``); Twilio's recording status
callbacks (``/twilio/recording``, ``/twilio/recording/room``, signed) name the files, and
the worker downloads them into the spool the catalog reads
(``<spool>/monitor/civic311/<uniqueid>.wav``, the room's ``<uniqueid>-room.wav``, joined
to it before it is catalogued), so a Twilio call's recording is catalogued,
retained, held and audited exactly as an Asterisk one (recordings/catalog.py).

A download that fails is retried with backoff (``foundation.claims``); the catalog waits
for a Twilio call's pending download rather than calling its recording missing. Once the
catalog holds the file, Twilio's copy is deleted (``recordings/twilio_copies.py``).
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import requests
from flask import Blueprint, Response, abort, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation import auth, claims, retry, twilio_webhooks
from foundation.db import Database, utcnow
from foundation.settings import Settings
from foundation.twilio_rest import Rest
from foundation.web import Mount
from recordings import twilio_rooms
from recordings.models import TwilioRecording

log = logging.getLogger(__name__)

BACKOFF = retry.Backoff(base_s=10.0, cap_s=900.0)
MAX_ATTEMPTS = 12
WAIT_FOR_CALLBACK = timedelta(minutes=2)  # a Twilio call's recording callback comes late


def safe(uniqueid: str) -> bool:
    return bool(uniqueid) and all(c.isalnum() or c in "-_" for c in uniqueid)


def create_blueprints(settings: Settings, db: Database) -> list[Mount]:
    bp = Blueprint("twilio_recordings", __name__)

    def keep(uid: str, part: str) -> Response:
        """Keep the file to fetch as ``uid + part`` (a repeat of the callback is a no-op)."""
        if not twilio_webhooks.valid(settings, request):
            abort(403)
        form = request.form
        url = form.get("RecordingUrl", "")
        if form.get("RecordingStatus", "completed") != "completed":
            return Response("", status=204)
        api = settings.twilio_api_base.rstrip("/")
        if not safe(uid) or not url.startswith(api + "/"):
            abort(400)  # only Twilio's own API is fetched from, with our credentials
        with db.session() as s:
            key = uid + part
            if s.scalar(select(TwilioRecording).where(TwilioRecording.uniqueid == key)) is None:
                s.add(TwilioRecording(uniqueid=key, recording_sid=form.get("RecordingSid", "")[:64],
                                      url=url[:512], status="pending", next_attempt_at=utcnow(),
                                      last_error=""))
        return Response("", status=204)

    @bp.route("/twilio/recording", methods=["POST"])
    @auth.public
    def recording() -> Response:
        """Twilio's recording status callback of a call's Dial (its CallSid: the caller's)."""
        return keep(request.form.get("CallSid", ""), "")

    @bp.route("/twilio/recording/room", methods=["POST"])
    @auth.public
    def room_recording() -> Response:
        """The recording status callback of a call's Conference (``?call=`` the caller's
        CallSid, in the signed URL: a conference's callback names no call), the rest of the
        call after it moved into its room (``recordings/twilio_rooms.py``)."""
        return keep(request.args.get("call", ""), twilio_rooms.ROOM_SUFFIX)

    return [Mount(bp, csrf_exempt=True)]


def awaited(session: Session, uniqueid: str, source: str, ended_at: datetime | None,
            now: datetime) -> bool:
    """True while the catalog should wait for a Twilio call's recording to arrive: its
    Dial's, and its room's when the call moved into one (``twilio_rooms``)."""
    if source != "twilio":
        return False
    room = uniqueid + twilio_rooms.ROOM_SUFFIX
    rows = {r.uniqueid: r for r in session.scalars(select(TwilioRecording).where(
        TwilioRecording.uniqueid.in_([uniqueid, room])))}
    if any(r.status == "pending" for r in rows.values()):
        return True
    if uniqueid not in rows and ended_at is not None and now - ended_at < WAIT_FOR_CALLBACK:
        return True
    return room not in rows and bool(twilio_rooms.awaited(session, uniqueid, ended_at, now,
                                                         WAIT_FOR_CALLBACK))


def _download(url: str, auth_: tuple[str, str], dest: Path) -> None:
    resp = requests.get(url + ".wav", auth=auth_, timeout=60)
    if resp.status_code == 404:
        raise retry.Permanent("Twilio has no such recording (404)")
    resp.raise_for_status()
    dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    part = dest.with_suffix(".part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(resp.content)
    part.replace(dest)  # the catalog never sees half a file


def fetch_due(settings: Settings, db: Database, incoming: Path,
              now: datetime | None = None) -> int:
    """Download every due recording into ``incoming``; returns how many arrived."""
    rest = Rest.from_settings(settings)
    if rest is None:
        return 0
    now = now or utcnow()
    auth_ = rest.auth

    def one(row_id: int) -> int:
        with db.session() as s:
            row = s.get(TwilioRecording, row_id)
            if row is None or row.status != "pending":
                return 0
            url, uid = row.url, row.uniqueid
        outcome = retry.attempt(partial(_download, url, auth_, incoming / f"{uid}.wav"),
                                (requests.RequestException, OSError), retry.as_text)
        with db.session() as s:
            row = s.get(TwilioRecording, row_id)
            assert row is not None
            if outcome.ok:
                row.status, row.locked_until = "done", None
                return 1
            claims.settle(row, outcome.error or "", now, MAX_ATTEMPTS,
                          permanent=outcome.permanent, backoff=BACKOFF)
            log.warning("Twilio recording of %s not fetched: %s", uid, outcome.error)
            return 0

    return claims.each(db, TwilioRecording, claims.claim(db, TwilioRecording, now, 20), one,
                       now, MAX_ATTEMPTS)
