"""The announce route of the FastAGI server: ``AGI(agi://.../announce,<emergency|recorded>)``
speaks one of ivr/announcements.py's announcements (the caller cannot skip it)."""

from __future__ import annotations

import logging

from ivr.announcements import Announcement, say
from ivr.prompts import PromptCache
from telephony.fastagi import AgiChannel
from telephony.install import Install

log = logging.getLogger(__name__)


class AnnounceAgi:
    def __init__(self, install: Install) -> None:
        self.prompts = PromptCache.of(install)

    async def __call__(self, channel: AgiChannel) -> None:
        try:
            which = Announcement(channel.headers.get("agi_arg_1", ""))
        except ValueError:
            log.warning("announce: unknown announcement %r", channel.headers.get("agi_arg_1"))
            return
        language = channel.headers.get("agi_language") or None
        log.info("announcing %s on %s", which, channel.uniqueid)
        for lang, text in say(which, language):
            await channel.stream_file(await self.prompts.sound(lang, text))
