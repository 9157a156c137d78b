"""A resident's photo (pure): what it may be — JPEG, PNG or WebP by its first bytes (the file
name and the sender's content type are the sender's word, not proof), and not too large — and
where it is kept: a random name in ``<data_dir>/portal_photos``, the one store the portal's
uploads and e-mailed photos share (served at ``/portal/photos/<name>``)."""

from __future__ import annotations

import secrets
from pathlib import Path

STORE = "portal_photos"  # under the data directory
URL_PATH = "/portal/photos/"


class PhotoError(ValueError):
    """``code``: ``photo_type`` or ``photo_size``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def kind(data: bytes, max_bytes: int) -> str:
    """The file extension for these bytes (``jpg``, ``png``, ``webp``), or PhotoError."""
    if len(data) > max_bytes:
        raise PhotoError("photo_size", f"the photo is larger than {max_bytes} bytes")
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    raise PhotoError("photo_type", "the photo must be a JPEG, PNG or WebP image")


def keep(directory: Path, data: bytes, max_bytes: int) -> str:
    """Write a checked photo under an unguessable name in ``directory`` (already private);
    returns the name. PhotoError, and nothing written, when it is not a photo."""
    name = f"{secrets.token_hex(16)}.{kind(data, max_bytes)}"
    (directory / name).write_bytes(data)
    return name


def url(public_base_url: str | None, name: str) -> str:
    """Where staff (and, for a public type, Open311) find a kept photo."""
    return f"{(public_base_url or '').rstrip('/')}{URL_PATH}{name}"
