"""Mapper for agencies without a system: a ticket as a referral email."""

from __future__ import annotations

from crm_bridge.config import CrmConfig
from crm_bridge.models import Agency, OutboxItem, Ticket
from crm_bridge.notify import messages
from crm_bridge.notify.notices import facts
from crm_bridge.outbox.errors import SendError


def referral(item: OutboxItem, t: Ticket, agency: Agency, cfg: CrmConfig) -> tuple[str, str, str]:
    """(to, subject, body) of the referral email, or SendError if the agency has no address."""
    to = agency.external_email or agency.email
    if not to:
        raise SendError(f"agency {agency.code} has no email address")
    details = [(k, str(v)) for k, v in (t.attributes or {}).items()]
    subject, body = messages.referral(facts(t, cfg), t.description, details,
                                      item.idempotency_key)
    return to, subject, body
