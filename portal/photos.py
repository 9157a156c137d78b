"""What a resident's photo may be (pure): JPEG, PNG or WebP by its first bytes (the file
name and the browser's content type are the sender's word, not proof), and not too large."""

from __future__ import annotations


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
