"""TwiML as the simulator runs it: the verbs of a ``<Response>``, in order (pure)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Verb:
    name: str  # Say, Gather, Enqueue, Dial, Leave, Hangup, Redirect, Pause, Record, ...
    attrs: dict[str, str] = field(default_factory=dict)
    text: str = ""
    children: tuple[Verb, ...] = ()


class TwimlError(ValueError):
    """Not a TwiML document (Twilio would play its application-error message)."""


def parse(document: str) -> list[Verb]:
    """The verbs of a TwiML ``<Response>`` ("" is an empty response)."""
    if not document.strip():
        return []
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        raise TwimlError(str(exc)) from exc
    if root.tag != "Response":
        raise TwimlError(f"root element is {root.tag}, not Response")
    return [_verb(el) for el in root]


def _verb(el: ET.Element) -> Verb:
    return Verb(el.tag, dict(el.attrib), (el.text or "").strip(),
                tuple(_verb(c) for c in el))


def words(verbs: list[Verb] | tuple[Verb, ...]) -> str:
    """Everything ``<Say>`` would speak in these verbs (nested ones too), space-separated."""
    out: list[str] = []
    for v in verbs:
        if v.name == "Say" and v.text:
            out.append(v.text)
        out.extend(filter(None, [words(v.children)]))
    return " ".join(out)
