"""Text prompts synthesized offline (espeak-ng + sox) to 8 kHz mono wav files that Asterisk
plays. Files are named by a hash of voice and text: a changed text gets a new file, an
unchanged one is never synthesized twice."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from pathlib import Path

from telephony.install import Install

log = logging.getLogger(__name__)

VOICES = {"en": "en-us", "es": "es-419"}
RATE_WPM = 165


class PromptError(RuntimeError):
    """espeak-ng or sox failed; the message carries their stderr."""


class PromptCache:
    """``directory`` is the host path; ``inner`` turns it into the path Asterisk sees."""

    def __init__(self, directory: Path, inner: str) -> None:
        self.directory = directory
        self.inner = inner.rstrip("/")
        self._locks: dict[str, asyncio.Lock] = {}

    @classmethod
    def of(cls, install: Install) -> PromptCache:
        """The prompts of an Asterisk install: ``<sounds>/ivr``, as Asterisk sees it too."""
        sounds = install.sounds_dir / "ivr"
        return cls(sounds, install.inner(sounds))

    @staticmethod
    def name(language: str, text: str) -> str:
        voice = VOICES.get(language, language)
        digest = hashlib.sha256(f"{voice}|{RATE_WPM}|{text}".encode()).hexdigest()[:20]
        return f"{language}-{digest}"

    def path(self, language: str, text: str) -> Path:
        return self.directory / f"{self.name(language, text)}.wav"

    async def sound(self, language: str, text: str) -> str:
        """The sound for ``text`` as Asterisk names it (no extension), synthesized if new."""
        name = self.name(language, text)
        target = self.directory / f"{name}.wav"
        if not target.exists():
            lock = self._locks.setdefault(name, asyncio.Lock())
            async with lock:
                if not target.exists():
                    await self._synthesize(language, text, target)
            self._locks.pop(name, None)
        return f"{self.inner}/{name}"

    async def _synthesize(self, language: str, text: str, target: Path) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        raw = target.with_suffix(f".{os.getpid()}.raw.wav")
        tmp = target.with_suffix(f".{os.getpid()}.tmp.wav")
        try:
            await _run("espeak-ng", "-v", VOICES.get(language, language), "-s", str(RATE_WPM),
                       "-w", str(raw), "--", text)
            await _run("sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed",
                       str(tmp))
            tmp.chmod(0o644)
            tmp.replace(target)
            log.info("synthesized %s prompt %s (%d chars)", language, target.name, len(text))
        finally:
            raw.unlink(missing_ok=True)
            tmp.unlink(missing_ok=True)


async def _run(*argv: str) -> None:
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise PromptError(f"{argv[0]} took longer than 30 s") from None
    if proc.returncode != 0:
        raise PromptError(f"{argv[0]} failed ({proc.returncode}): {err.decode(errors='replace')}")
