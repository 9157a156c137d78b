"""Messages residents leave after hours: where they are and who left them.

Asterisk records into ``<spool>/civic311-voicemail/<uniqueid>.wav`` (FastAGI ``RECORD
FILE``); Twilio keeps its recordings and tells us their URL. Either way the IVR call row
says where the message is (``IvrCall.voicemail``), so none is left unheard in a folder.
"""

from __future__ import annotations

import re
import wave
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.models import IvrCall
from telephony.install import Install

FOLDER = "civic311-voicemail"
FILE_NAME = re.compile(r"[A-Za-z0-9._-]{1,120}\.wav")


def folder(install: Install) -> Path:
    return install.spool_dir / FOLDER


def seconds(path: Path) -> float | None:
    """The length of a recorded message; None when there is no readable file."""
    try:
        with wave.open(str(path)) as w:
            frames, rate = int(w.getnframes()), int(w.getframerate())
        return round(frames / rate, 1)
    except (OSError, EOFError, ZeroDivisionError, wave.Error):
        return None


def file_for(install: Install, name: str) -> Path | None:
    """The message file called ``name`` (never a path outside the folder), if it exists."""
    if not FILE_NAME.fullmatch(name) or name.startswith("."):
        return None
    path = folder(install) / name
    return path if path.is_file() else None


def recent(session: Session, limit: int = 100) -> list[IvrCall]:
    return list(session.scalars(select(IvrCall).where(IvrCall.voicemail.is_not(None))
                                .order_by(IvrCall.started_at.desc()).limit(limit)))
