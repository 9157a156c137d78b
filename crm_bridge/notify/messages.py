"""Texts of resident and oversight notifications (pure): (subject, body) pairs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class TicketFacts:
    number: str
    service_name: str
    agency_name: str
    state: str  # plain words
    expected: date | None
    address: str | None
    city: str


def when(d: date | None) -> str:
    """A promised date in words ("Monday March 16, 2026"), or "as soon as possible"."""
    return d.strftime("%A %B %-d, %Y") if d else "as soon as possible"


def created(f: TicketFacts, status_hint: str) -> tuple[str, str]:
    subject = f"{f.city} 311: request {f.number} received"
    body = (
        f"Thank you for contacting {f.city} 311.\n\n"
        f"Your service request number is {f.number}.\n"
        f"Request: {f.service_name}{' at ' + f.address if f.address else ''}\n"
        f"Agency: {f.agency_name}\n"
        f"Expected completion: {when(f.expected)}\n\n"
        f"{status_hint}\n"
    )
    return subject, body


def status_changed(f: TicketFacts, note: str | None) -> tuple[str, str]:
    subject = f"{f.city} 311: request {f.number} is {f.state}"
    body = (
        f"Your service request {f.number} ({f.service_name}) is now {f.state}.\n"
        + (f"\n{note}\n" if note else "")
        + f"\nExpected completion: {when(f.expected)}\n"
    )
    return subject, body


def closed(f: TicketFacts, resolution: str, reopen_hint: str) -> tuple[str, str]:
    subject = f"{f.city} 311: request {f.number} closed"
    body = (
        f"Your service request {f.number} ({f.service_name}) was closed by {f.agency_name}.\n\n"
        f"Resolution: {resolution}\n\n"
        f"If the work was not done: {reopen_hint}\n"
    )
    return subject, body


def sla_warning(f: TicketFacts, contact: str, percent: int) -> tuple[str, str]:
    subject = f"SLA warning: {f.number} {f.service_name} at {percent}% of its SLA"
    body = (
        f"{contact},\n\nService request {f.number} ({f.service_name}, {f.agency_name}) has used "
        f"{percent}% of its service level agreement and is {f.state}.\n"
        f"It is due {when(f.expected)}.\n"
    )
    return subject, body


def escalation(f: TicketFacts, contact: str, level: int, reason: str) -> tuple[str, str]:
    subject = f"Escalation (level {level}): {f.number} {f.service_name}"
    body = (
        f"{contact},\n\nService request {f.number} ({f.service_name}, {f.agency_name}) is "
        f"escalated to you: {reason}.\nState: {f.state}. Due: {when(f.expected)}.\n"
    )
    return subject, body


def referral(f: TicketFacts, description: str, details: list[tuple[str, str]],
             idempotency_key: str) -> tuple[str, str]:
    """The email an agency without a system receives instead of an API call."""
    lines = "\n".join(f"{k}: {v}" for k, v in details)
    subject = f"[{f.city} 311] New service request {f.number}: {f.service_name}"
    body = (
        f"A new service request was routed to {f.agency_name}.\n\n"
        f"Number: {f.number}\nType: {f.service_name}\nLocation: {f.address or 'n/a'}\n"
        f"Due: {when(f.expected)}\n\n{description}\n\n{lines}\n\nReference: {idempotency_key}\n"
    )
    return subject, body


def sms(kind: str, f: TicketFacts, extra: str = "") -> str:
    """A one-segment-ish SMS for created / status / closed."""
    if kind == "created":
        return f"{f.city} 311: request {f.number} received. Expected by {when(f.expected)}."
    if kind == "closed":
        return f"{f.city} 311: request {f.number} closed. {extra}"[:320]
    return f"{f.city} 311: request {f.number} is now {f.state}."


def resident_comment(f: TicketFacts, text: str) -> tuple[str, str]:
    """The agency is told what the resident added to a request (an e-mailed reply)."""
    subject = f"[{f.city} 311] Resident comment on {f.number}: {f.service_name}"
    body = (
        f"The resident added to service request {f.number} ({f.service_name}, "
        f"{f.agency_name}); it is {f.state}.\n\n{text}\n"
    )
    return subject, body


def comment_received(f: TicketFacts) -> tuple[str, str]:
    """The resident's confirmation that their reply was added."""
    subject = f"{f.city} 311: your message was added to request {f.number}"
    body = (
        f"Your message was added to service request {f.number} ({f.service_name}) and "
        f"{f.agency_name} was told.\nIt is {f.state}. Expected completion: {when(f.expected)}\n"
    )
    return subject, body
