"""Facts about a recording file: duration, size, SHA-256 (stdlib only, no database)."""

from __future__ import annotations

import hashlib
import wave
from dataclasses import dataclass
from pathlib import Path


class RecordingDefect(ValueError):
    """The file is not a playable recording; the message says what is wrong."""


@dataclass(frozen=True)
class AudioFacts:
    duration_s: float  # seconds of audio
    size_bytes: int
    sha256: str  # hex


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def inspect(path: Path) -> AudioFacts:
    """Duration from the WAV header (or the data size when Asterisk died before fixing the
    header); raises RecordingDefect for a file that is empty or not WAV."""
    size = path.stat().st_size
    try:
        with wave.open(str(path), "rb") as w:
            rate, width, channels, frames = (w.getframerate(), w.getsampwidth(),
                                             w.getnchannels(), w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise RecordingDefect(f"not a WAV file: {exc}") from exc
    byte_rate = rate * width * channels
    if byte_rate <= 0:
        raise RecordingDefect("WAV header without a sample rate")
    if frames == 0 and size > 44:
        frames = (size - 44) // (width * channels)
    duration = frames / rate
    if duration <= 0:
        raise RecordingDefect("the recording holds no audio")
    return AudioFacts(round(duration, 3), size, sha256_of(path))
