"""Prompts synthesized by the real espeak-ng + sox: 8 kHz mono files, made once per text."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

from ivr.prompts import PromptCache


def test_prompts_are_8khz_cached_and_regenerated_when_text_changes(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path / "ivr", "/var/lib/civic311/sounds/ivr")

    async def make() -> tuple[str, str, str]:
        return (await cache.sound("en", "Thank you for calling."),
                await cache.sound("es", "Gracias por llamar."),
                await cache.sound("en", "Thank you for calling."))

    en, es, again = asyncio.run(make())
    assert en == again and en.startswith("/var/lib/civic311/sounds/ivr/en-")
    assert es.startswith("/var/lib/civic311/sounds/ivr/es-") and es != en
    path = cache.path("en", "Thank you for calling.")
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert 0.5 < w.getnframes() / 8000 < 5
    stamp = path.stat().st_mtime_ns
    asyncio.run(cache.sound("en", "Thank you for calling."))
    assert path.stat().st_mtime_ns == stamp  # not synthesized twice
    asyncio.run(cache.sound("en", "Thank you for calling the city."))
    assert cache.path("en", "Thank you for calling the city.").exists()
    assert sorted(p.name for p in (tmp_path / "ivr").iterdir()) == sorted(
        f"{PromptCache.name(lang, text)}.wav" for lang, text in [
            ("en", "Thank you for calling."), ("es", "Gracias por llamar."),
            ("en", "Thank you for calling the city.")])
