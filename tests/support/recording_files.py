"""Catalogued recordings with real WAV files, for the web, retention and QA tests."""

from __future__ import annotations

import math
import struct
import wave
from datetime import datetime, timedelta
from pathlib import Path

from acd.models import CallRecord
from foundation.db import Database
from recordings.audio import inspect
from recordings.models import Recording


def write_wav(path: Path, seconds: float, hz: float = 440.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = int(8000 * seconds)
    frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / 8000)))
                      for i in range(n))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(frames)
    return path


def call_record(uniqueid: str, queue: str, agent: str | None, answered_at: datetime,
                talk_s: float, ticket: str | None = None) -> CallRecord:
    return CallRecord(uniqueid=uniqueid, queue=queue, agent=agent,
                      entered_at=answered_at - timedelta(seconds=5), answered_at=answered_at,
                      ended_at=answered_at + timedelta(seconds=talk_s), wait_s=5.0,
                      talk_s=talk_s, outcome="answered", ticket_number=ticket)


def make_recording(db: Database, data_dir: Path, uniqueid: str, answered_at: datetime, *,
                   queue: str = "citywide", agent: str | None = "100", seconds: float = 2.0,
                   ticket: str | None = None, status: str = "ok") -> int:
    """A call record and its catalogued recording (file under the data dir); returns its id."""
    relative = f"recordings/{answered_at:%Y/%m/%d}/{uniqueid}.wav"
    with db.session() as s:
        call = call_record(uniqueid, queue, agent, answered_at, seconds, ticket)
        s.add(call)
        s.flush()
        rec = Recording(uniqueid=uniqueid, call_id=call.id, queue=queue, agent=agent,
                        ticket_number=ticket, started_at=answered_at, talk_s=seconds,
                        status=status, detail="", legal_hold=False, hold_reason="")
        if status == "ok":
            facts = inspect(write_wav(data_dir / relative, seconds))
            rec.path, rec.duration_s = relative, facts.duration_s
            rec.size_bytes, rec.sha256 = facts.size_bytes, facts.sha256
        s.add(rec)
        s.flush()
        return rec.id


def pbx_app(pbx, db: Database):  # type: ignore[no-untyped-def]
    """The web app wired to the test PBX (its AMI port and secret) and to ``db``."""
    from center.web import create_app

    settings = pbx.settings.model_copy(update={"database_url": db.url})
    app = create_app(settings, db)
    app.config.update(TESTING=True)
    return app
