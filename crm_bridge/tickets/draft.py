"""What a new ticket is made from, whichever channel took it (phone, IVR, web, Open311)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TicketDraft:
    """A resident's request before it is a ticket; ``open_ticket`` validates and stores it."""

    service_code: str
    description: str = ""
    channel: str = "phone"
    language: str = "en"  # the resident's (``LANGUAGES``): every notice is in it
    actor: str = "system"
    attributes: dict[str, Any] = field(default_factory=dict)
    address: str | None = None
    address_id: str | None = None
    zipcode: str | None = None
    lat: float | None = None
    long: float | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    notify_email: bool = True
    notify_sms: bool = False
    account_id: str | None = None
    device_id: str | None = None
    media_url: str | None = None
    call_uniqueid: str | None = None
    source_client: str | None = None
    idempotency_key: str | None = None
