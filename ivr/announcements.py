"""Announcements a city needs before anything else (pure): what each one says, per language.

- ``emergency``: "if this is an emergency, hang up and dial 911", first on 311 and on the
  carrier's numbers when ``emergency_announcement`` is on. Said in every language of the
  line in turn: the caller has not chosen one yet.
- ``recorded``: "this call may be recorded", before a caller joins a queue whose
  ``recording_notice`` is on (the default: Maryland and the other all-party-consent states
  require it), in the caller's language.

The dialplan asks for them (extensions.conf ``[civic311-announce]``); the FastAGI route
(ivr/announce_agi.py) speaks them through the prompt cache (ivr/prompts.py).
"""

from __future__ import annotations

from enum import StrEnum


class Announcement(StrEnum):
    EMERGENCY = "emergency"
    RECORDED = "recorded"


TEXTS: dict[Announcement, dict[str, str]] = {
    Announcement.EMERGENCY: {
        "en": "If this is an emergency, hang up and dial 9 1 1.",
        "es": "Si es una emergencia, cuelgue y marque el 9 1 1.",
    },
    Announcement.RECORDED: {
        "en": "This call may be recorded for quality and training.",
        "es": "Esta llamada puede ser grabada para control de calidad y capacitación.",
    },
}
LANGUAGES = ("en", "es")


def say(announcement: Announcement, language: str | None) -> list[tuple[str, str]]:
    """(language, text) pairs to speak, in order: the emergency line in every language, the
    recording notice in the caller's (English when it has none we know)."""
    texts = TEXTS[announcement]
    if announcement is Announcement.EMERGENCY:
        return [(lang, texts[lang]) for lang in LANGUAGES]
    lang = language if language in texts else "en"
    return [(lang, texts[lang])]
