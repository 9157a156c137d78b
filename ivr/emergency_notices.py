"""Emergency notices typed (and optionally recorded) by a supervisor: validation, the
recording's conversion to what Asterisk plays (sox), and storage."""

from __future__ import annotations

import io
import subprocess
import tempfile
import wave
from datetime import datetime, timedelta
from pathlib import Path

from flask import Response, abort, send_file
from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation.db import Database
from ivr.models import IvrNotice

MAX_CHARS = 400
MAX_HOURS = 24 * 14
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_RECORDING_S = 120.0
RECORDING_TYPES = ("wav", "mp3", "ogg", "flac")  # what sox reads from the upload


class NoticeError(ValueError):
    """The notice cannot be posted; the message says why."""


def validate(text: str, expires_at: datetime, now: datetime) -> str:
    """The cleaned text; NoticeError on empty/long text or an expiry not in (now, now + 14 d]."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise NoticeError("Type the message callers will hear.")
    if len(cleaned) > MAX_CHARS:
        raise NoticeError(f"Keep the message under {MAX_CHARS} characters "
                          f"(it has {len(cleaned)}).")
    if expires_at.tzinfo is None:
        raise NoticeError("The expiry needs a time zone.")
    if expires_at <= now:
        raise NoticeError("The expiry must be in the future.")
    if expires_at > now + timedelta(hours=MAX_HOURS):
        raise NoticeError("A notice may last at most 14 days.")
    return cleaned


def convert_recording(data: bytes, filename: str) -> tuple[bytes, float]:
    """An uploaded recording as 8 kHz mono 16-bit WAV (what Asterisk and Twilio both play)
    and its length in seconds; NoticeError when it is not audio sox can read, is silent-empty
    or too long."""
    kind = Path(filename).suffix.lower().lstrip(".")
    if kind not in RECORDING_TYPES:
        raise NoticeError(f"Upload the recording as {', '.join(RECORDING_TYPES)}.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise NoticeError("That recording is too large (at most 20 MB).")
    with tempfile.TemporaryDirectory(prefix="civic311-notice-") as tmp:
        src, out = Path(tmp) / f"upload.{kind}", Path(tmp) / "notice.wav"
        src.write_bytes(data)
        done = subprocess.run(["sox", "-V1", str(src), "-r", "8000", "-c", "1", "-b", "16",
                               "-e", "signed-integer", str(out)], capture_output=True,
                              text=True, timeout=60)
        if done.returncode != 0 or not out.exists():
            raise NoticeError(f"That file is not a {kind} recording we can read "
                              f"({done.stderr.strip()[:200] or 'sox failed'}).")
        with wave.open(str(out)) as w:
            seconds = w.getnframes() / w.getframerate()
        if seconds < 0.5:
            raise NoticeError("That recording is empty.")
        if seconds > MAX_RECORDING_S:
            raise NoticeError(f"Keep the recording under {MAX_RECORDING_S:.0f} seconds "
                              f"(it has {seconds:.0f}).")
        return out.read_bytes(), round(seconds, 2)


def post(session: Session, text: str, expires_at: datetime, by: str, now: datetime,
         recording: tuple[bytes, float] | None = None) -> IvrNotice:
    """Store a notice; ``recording`` (from ``convert_recording``) is heard instead of the
    text, which stays its transcript (the notices page, Twilio's fallback)."""
    notice = IvrNotice(text=validate(text, expires_at, now), created_by=by, created_at=now,
                       expires_at=expires_at, audio=recording[0] if recording else None,
                       audio_s=recording[1] if recording else None)
    session.add(notice)
    session.flush()
    return notice


def withdraw(session: Session, notice_id: int, now: datetime) -> bool:
    notice = session.get(IvrNotice, notice_id)
    if notice is None or notice.withdrawn_at is not None:
        return False
    notice.withdrawn_at = now
    return True


def recent(session: Session, limit: int = 20) -> list[IvrNotice]:
    return list(session.scalars(select(IvrNotice).order_by(IvrNotice.id.desc()).limit(limit)))


def recording(session: Session, notice_id: int) -> bytes | None:
    notice = session.get(IvrNotice, notice_id)
    return notice.audio if notice is not None else None


def recording_response(db: Database, notice_id: int) -> Response:
    """The notice's recording as audio/wav (range requests served by werkzeug); 404 if none."""
    with db.session() as s:
        audio = recording(s, notice_id)
    if audio is None:
        abort(404)
    return send_file(io.BytesIO(audio), mimetype="audio/wav", conditional=True,
                     download_name=f"notice-{notice_id}.wav", max_age=300)
