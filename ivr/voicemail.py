"""Messages residents leave after hours: where they are and who left them.

Asterisk records into ``<spool>/civic311-voicemail/<uniqueid>.wav`` (FastAGI ``RECORD
FILE``); Twilio keeps its recordings and tells us their URL. Either way the IVR call row
says where the message is (``IvrCall.voicemail``), so none is left unheard in a folder.
Every play is audited (``VoicemailAccess``: who, when, which, from where), and the audio is
erased after ``retention_voicemail_days`` by the worker (``ivr/erasure_jobs.py``).
"""

from __future__ import annotations

import re
import wave
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.models import IvrCall, VoicemailAccess
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


AUDIT_LEN = 64  # remote_addr and byte_range


def call_with_file(session: Session, name: str) -> IvrCall | None:
    """The IVR call whose message is the spool file ``name``."""
    return session.scalar(select(IvrCall).where(IvrCall.voicemail == name,
                                                IvrCall.source == "asterisk"))


def audit(session: Session, call: IvrCall, username: str, role: str, action: str,
          at: datetime, remote_addr: str = "", byte_range: str = "") -> None:
    """Write one access row (before a byte of the message is sent)."""
    session.add(VoicemailAccess(ivr_call_id=call.id, username=username, role=role,
                                action=action, at=at, remote_addr=remote_addr[:AUDIT_LEN],
                                byte_range=byte_range[:AUDIT_LEN]))


def access_log(session: Session, call_ids: Iterable[int] | None = None,
               limit: int = 500) -> list[VoicemailAccess]:
    """The newest access rows, of the given calls or of all."""
    q = select(VoicemailAccess)
    if call_ids is not None:
        q = q.where(VoicemailAccess.ivr_call_id.in_(list(call_ids)))
    return list(session.scalars(q.order_by(VoicemailAccess.at.desc(), VoicemailAccess.id.desc())
                                .limit(limit)))


def by_call(rows: Iterable[VoicemailAccess]) -> dict[int, list[VoicemailAccess]]:
    out: defaultdict[int, list[VoicemailAccess]] = defaultdict(list)
    for r in rows:
        out[r.ivr_call_id].append(r)
    return dict(out)
