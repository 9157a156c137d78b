"""What the announcements say, and in which languages."""

from __future__ import annotations

from ivr.announcements import Announcement, say


def test_the_emergency_line_is_said_in_every_language_first_english() -> None:
    said = say(Announcement.EMERGENCY, None)
    assert [lang for lang, _ in said] == ["en", "es"]
    assert "hang up and dial 9 1 1" in said[0][1]
    assert "marque el 9 1 1" in said[1][1]
    assert say(Announcement.EMERGENCY, "es") == said  # before anyone chose a language


def test_the_recording_notice_is_said_in_the_callers_language() -> None:
    assert say(Announcement.RECORDED, "es") == [
        ("es", "Esta llamada puede ser grabada para control de calidad y capacitación.")]
    assert say(Announcement.RECORDED, "en")[0][1].startswith("This call may be recorded")
    assert say(Announcement.RECORDED, "fr")[0][0] == "en"
    assert say(Announcement.RECORDED, None)[0][0] == "en"
