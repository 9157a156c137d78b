"""One sender strategy per destination kind (``Agency.external_kind``).

A sender turns the rows into a request while the transaction is open (``prepare``) and hands
back a call that talks to the destination; the outbox makes that call after the transaction
has ended, so no database lock is held across a slow remote.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Protocol

from crm_bridge.config import CrmConfig
from crm_bridge.models import Agency, OutboxItem, Ticket
from crm_bridge.notify.delivery import send_email
from crm_bridge.outbox import email_mapper, open311_client, open311_mapper
from crm_bridge.outbox.errors import SendError
from foundation.settings import Settings

Send = Callable[[], str]  # returns the remote id; raises SendError


class Sender(Protocol):
    def prepare(self, item: OutboxItem, t: Ticket, agency: Agency) -> Send: ...


class Open311Sender:
    """Another city's (or an agency's) GeoReport v2 endpoint: POST requests.json."""

    def prepare(self, item: OutboxItem, t: Ticket, agency: Agency) -> Send:
        return partial(open311_client.post_request, agency.external_url or "",
                       open311_mapper.request_form(t, agency), item.idempotency_key)


class EmailSender:
    """An agency without a system gets the ticket by email; the Message-ID is the remote id."""

    def __init__(self, settings: Settings, cfg: CrmConfig) -> None:
        self.settings, self.cfg = settings, cfg

    def prepare(self, item: OutboxItem, t: Ticket, agency: Agency) -> Send:
        to, subject, body = email_mapper.referral(item, t, agency, self.cfg)
        return partial(self._send, to, subject, body, f"<{item.idempotency_key}@civic311>")

    def _send(self, to: str, subject: str, body: str, message_id: str) -> str:
        try:
            return send_email(self.settings, to, subject, body, message_id=message_id)
        except OSError as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from exc


def default_senders(settings: Settings, cfg: CrmConfig) -> dict[str, Sender]:
    return {"open311": Open311Sender(), "email": EmailSender(settings, cfg)}
