"""The rest of a Twilio call after it moved into a Conference (its first hold or consult,
``acd/twilio_acd/conference.py``): the Dial's dual-channel recording ends at the move, and
the room, recorded from its start (``record-from-start``), holds the rest, on one channel
(Twilio mixes a conference). Its file (``<uniqueid>-room.wav``, fetched as any Twilio
recording by ``twilio_fetch``) is appended to the call's own before the catalog takes it,
each of its frames on both channels, so the call has one recording from the answer to the
room's end, catalogued, retained, held and audited as one (``catalog``), and its length is
checked against the whole talk time. The room's copy at Twilio is deleted as the Dial's
is (``twilio_copies``).

The join survives a crash at any point: the joined file is written beside the call's
(``.joined``) and only then does the room's part go, then the joined file takes the call's
name; a ``.joined`` file found without its room part is that last step, not yet done.
"""

from __future__ import annotations

import os
import wave
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from acd.twilio_acd import public as twilio_acd
from recordings.audio import RecordingDefect

ROOM_SUFFIX = "-room"  # <caller uniqueid>-room.wav: the room's recording of the call
ROOM_OPEN_MAX = timedelta(hours=4)  # a room not heard to end is taken as ended after this


def awaited(session: Session, uniqueid: str, call_ended: datetime | None, now: datetime,
            wait: timedelta) -> bool | None:
    """Whether the room's recording is still to come when its callback has not: the room
    goes on (a hand-over leaves the caller there with the target, past the record's end:
    up to ``ROOM_OPEN_MAX`` after it, should its end be lost), or it ended less than
    ``wait`` ago. None: the call never moved into a room."""
    room = twilio_acd.moved_to_room(session, uniqueid)
    if room is None:
        return None
    if room.ended_at is None:
        return call_ended is None or now - call_ended < ROOM_OPEN_MAX
    return now - room.ended_at < wait


def room_part(incoming: Path, uniqueid: str) -> Path:
    return incoming / f"{uniqueid}{ROOM_SUFFIX}.wav"


def join(incoming: Path, uniqueid: str) -> None:
    """Append the room's part to the call's file (the room's alone when the Dial's never
    came); nothing when there is no room's part. Raises RecordingDefect when the two cannot
    be one file (another rate or sample width)."""
    dial, room = incoming / f"{uniqueid}.wav", room_part(incoming, uniqueid)
    joined = incoming / f"{uniqueid}.joined"
    if not room.exists():
        if joined.exists():  # the room's part went, the rename did not happen yet
            joined.replace(dial)
        return
    if not dial.exists():
        room.replace(dial)
        return
    stamp = max(dial.stat().st_mtime, room.stat().st_mtime)
    try:
        with wave.open(str(dial), "rb") as a, wave.open(str(room), "rb") as b:
            channels, width, rate = a.getnchannels(), a.getsampwidth(), a.getframerate()
            if (b.getsampwidth(), b.getframerate()) != (width, rate) or \
                    b.getnchannels() not in (1, channels):
                raise RecordingDefect(
                    f"the room's recording ({b.getnchannels()} ch, {b.getframerate()} Hz, "
                    f"{8 * b.getsampwidth()} bit) cannot follow the call's ({channels} ch, "
                    f"{rate} Hz, {8 * width} bit)")
            first, rest = a.readframes(a.getnframes()), b.readframes(b.getnframes())
            if b.getnchannels() == 1 and channels > 1:
                rest = spread(rest, width, channels)
    except (wave.Error, EOFError) as exc:
        raise RecordingDefect(f"not a WAV file: {exc}") from exc
    fd = os.open(joined, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f, wave.open(f, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(first + rest)
    os.utime(joined, (stamp, stamp))  # written when its parts were (the catalog's settle)
    room.unlink()
    joined.replace(dial)


def spread(mono: bytes, width: int, channels: int) -> bytes:
    """Frames of one channel (``width`` bytes a sample) on each of ``channels``."""
    out = bytearray(len(mono) * channels)
    step = width * channels
    for c in range(channels):
        for byte in range(width):
            out[c * width + byte::step] = mono[byte::width]
    return bytes(out)
