"""The SMTP receiver (``mail_in = "smtp"``): an aiosmtpd server the active worker runs on
``mail_in_host:mail_in_port``, behind the city's MX or relay.

aiosmtpd answers 552 itself past ``mail_in_max_bytes`` (the message is never read); a
recipient other than the 311 address gets 550; intake's refusals at the door (junk) are 550;
a message refused by the rules (auto-reply, loop, repeat, flood) is accepted with 250 and
dropped, so no bounce goes back to a robot. Intake runs in a thread of the loop's executor:
the database never blocks the server's event loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.controller import Controller

from crm_bridge.config import from_settings
from crm_bridge.mail_in.intake import Rejected, receive
from foundation.db import Database
from foundation.settings import Settings

log = logging.getLogger(__name__)


class Handler:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings, self.db, self.cfg = settings, db, from_settings(settings)
        self.mailboxes = {a.lower() for a in (settings.mail_in_address or settings.mail_from,)}

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address.lower() not in self.mailboxes:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        sender = "" if envelope.mail_from in ("", "<>") else envelope.mail_from  # aiosmtpd
        loop = asyncio.get_running_loop()  # keeps MAIL FROM:<> as "<>": the null sender
        try:
            result = await loop.run_in_executor(
                None, receive, self.db, self.settings, self.cfg, raw, sender)
        except Rejected as exc:
            log.info("mail in rejected (%s): %s", exc.smtp, exc)
            return f"{exc.smtp} {'4.3.0' if exc.smtp < 500 else '5.6.0'} {exc}"
        except Exception:
            log.exception("mail in failed: the sender's server will retry")
            return "451 4.3.0 not processed, try again later"
        return f"250 OK {result.outcome.value}{' ' + result.number if result.number else ''}"


class Listener:
    """Start and stop the SMTP server (a thread with its own event loop: aiosmtpd's
    Controller); the active worker holds one while it holds the worker lock."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.controller = Controller(
            Handler(settings, db), hostname=settings.mail_in_host, port=settings.mail_in_port,
            data_size_limit=settings.mail_in_max_bytes, server_hostname="civic311")

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def start(self) -> None:
        self.controller.start()
        log.info("mail in: SMTP listener on %s:%s", self.controller.hostname, self.port)

    def stop(self) -> None:
        self.controller.stop()
