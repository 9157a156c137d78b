"""FAQ answers from the CRM's knowledge base, for both IVR adapters (FastAGI and TwiML).

A menu FAQ with ``service: <service_code>`` is answered with that service type's FAQ text,
the words the agent desktop shows, so an admin's edit of the catalog changes what callers
hear too; in another language the catalog's ``i18n`` FAQ where it has one, else the
menu's. Read at most every ``TTL_S`` seconds; a database error keeps the last answers.
"""

from __future__ import annotations

import logging
import time

from crm_bridge.public import faq_answers
from foundation.db import Database
from ivr.menu import Menu, with_knowledge

log = logging.getLogger(__name__)

TTL_S = 30.0


class Knowledge:
    def __init__(self, db: Database, ttl_s: float | None = None) -> None:
        self.db = db
        self.ttl_s = ttl_s  # None: TTL_S (read on each call)
        self._answers: dict[str, str] = {}
        self._translated: dict[str, dict[str, str]] = {}  # language -> code -> the FAQ
        self._read_at: float | None = None

    def answers(self, languages: tuple[str, ...] = ()) -> dict[str, str]:
        """The English answers; those of ``languages`` are read alongside (``translated``)."""
        now = time.monotonic()
        ttl_s = TTL_S if self.ttl_s is None else self.ttl_s
        if self._read_at is None or now - self._read_at >= ttl_s:
            try:
                with self.db.session() as s:
                    self._answers = faq_answers(s)
                    self._translated = {lang: faq_answers(s, lang) for lang in languages}
            except Exception:
                log.exception("FAQ answers not read from the catalog; keeping the last ones")
            self._read_at = now
        return self._answers

    def apply(self, menu: Menu) -> Menu:
        """The menu with its knowledge-base FAQs answered (unchanged when it has none)."""
        if all(c.service is None for c in menu.faq):
            return menu
        others = tuple(lang for lang in menu.languages.values() if lang != "en")
        answers = self.answers(others)
        return with_knowledge(menu, answers, self._translated)
