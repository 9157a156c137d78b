"""Read a recorded raw AMI stream into messages exactly as panoramisk parses them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from panoramisk.message import Message

from telephony.ami import flatten

DATA = Path(__file__).parents[1] / "data"


def messages(name: str = "ami_mixed.txt") -> list[Any]:
    raw = (DATA / name).read_bytes().decode("utf-8", "ignore")
    out = []
    for block in raw.split("\r\n\r\n"):
        msg = Message.from_line(block.strip())
        if msg is not None and "event" in msg:
            out.append(msg)
    return out


def flat_messages(name: str = "ami_mixed.txt") -> list[dict[str, str]]:
    """The stream as the AMI bridge hands it on: plain dicts (what the normalizer takes)."""
    return [flatten(m) for m in messages(name)]
