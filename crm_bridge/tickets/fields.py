"""A ticket's text fields against the limits of their own columns (``foundation.limits``):
one check for every channel that opens or changes a ticket (Open311, the staff API, the agent
desktop, the IVR), so a value too long for its column or holding NUL or a control character
is refused with the field's name before anything is written."""

from __future__ import annotations

from typing import Any

from crm_bridge.models import Ticket, TicketEvent
from crm_bridge.tickets.draft import TicketDraft
from crm_bridge.tickets.errors import InvalidInput
from foundation import limits

# draft field -> the column it is stored in (the e-mail address has its own rule,
# ``foundation.header_values.email_problem``, applied by ``open_ticket``)
COLUMNS = {
    "address": Ticket.address, "address_id": Ticket.address_id, "zipcode": Ticket.zipcode,
    "first_name": Ticket.first_name, "last_name": Ticket.last_name,
    "phone": Ticket.phone, "account_id": Ticket.account_id, "device_id": Ticket.device_id,
    "media_url": Ticket.media_url, "call_uniqueid": Ticket.call_uniqueid,
    "source_client": Ticket.source_client, "actor": Ticket.created_by,
}


def check(field: str, value: str | None, column: Any, *, multiline: bool = False) -> None:
    """Refuse ``value`` for ``field`` (InvalidInput coded ``field``) unless ``column`` holds it."""
    why = limits.problem(column, value, multiline=multiline)
    if why:
        raise InvalidInput(field, f"{field} {why}")


def check_draft(d: TicketDraft) -> None:
    """Every text field of a new ticket fits its column; all problems are named at once."""
    problems = []
    for name, column in COLUMNS.items():
        why = limits.problem(column, getattr(d, name))
        if why:
            problems.append((name, f"{name} {why}"))
    why = limits.problem(Ticket.description, d.description, multiline=True)
    if why:
        problems.append(("description", f"description {why}"))
    for code, value in (d.attributes or {}).items():
        if not isinstance(code, str) or limits.text_problem(code, limit=64):
            problems.append(("attributes", "attribute codes are short one-line text"))
            continue
        for v in value if isinstance(value, list) else [value]:
            if not isinstance(v, str | int | float) or isinstance(v, bool):
                problems.append((code, f"attribute {code}: a value is text or a number"))
            elif isinstance(v, str) and (why := limits.text_problem(
                    v, limit=limits.MAX_TEXT, multiline=True)):
                problems.append((code, f"attribute {code} {why}"))
    if problems:
        raise InvalidInput(problems[0][0], "; ".join(m for _, m in problems), problems)


def check_note(field: str, text: str | None) -> None:
    """A comment, resolution or reason written to the ticket's log."""
    check(field, text, TicketEvent.text, multiline=True)
