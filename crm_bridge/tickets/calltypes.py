"""Wrap-up call types (pure): what the agent says each call was."""

from __future__ import annotations

from crm_bridge.tickets.errors import InvalidInput

CALL_TYPES = ("information", "referral", "service_request", "complaint", "compliment")
NEEDS_TICKET = frozenset({"service_request"})


def check_wrapup(call_type: str, ticket_number: str | None) -> str:
    """The call type, or InvalidInput: unknown type, or a service request without its ticket."""
    if call_type not in CALL_TYPES:
        raise InvalidInput("call_type", f"call type must be one of {', '.join(CALL_TYPES)}")
    if call_type in NEEDS_TICKET and not ticket_number:
        raise InvalidInput("ticket_required",
                           "a service request call is wrapped up with its ticket number")
    return call_type
