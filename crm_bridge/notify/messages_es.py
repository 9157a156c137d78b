"""The resident's notices in Spanish (pure): the same (subject, body) pairs as ``messages``,
for tickets whose ``language`` is ``es`` (the portal and the IVR record it)."""

from __future__ import annotations

from datetime import date

from crm_bridge.notify.messages import TicketFacts

STATES = {"received": "recibida", "acknowledged": "recibida y revisada",
          "assigned": "asignada", "in progress": "en curso", "on hold": "en espera",
          "closed": "cerrada", "reopened": "reabierta"}
MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
          "septiembre", "octubre", "noviembre", "diciembre")
DAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")


def when(d: date | None) -> str:
    """A promised date in Spanish words ("el lunes 16 de marzo de 2026")."""
    if d is None:
        return "lo antes posible"
    return f"el {DAYS[d.weekday()]} {d.day} de {MONTHS[d.month - 1]} de {d.year}"


def _state(f: TicketFacts) -> str:
    return STATES.get(f.state, f.state)


def created(f: TicketFacts, status_hint: str) -> tuple[str, str]:
    subject = f"311 de {f.city}: recibimos la solicitud {f.number}"
    body = (
        f"Gracias por comunicarse con el 311 de {f.city}.\n\n"
        f"Su número de solicitud es {f.number}.\n"
        f"Solicitud: {f.service_name}{' en ' + f.address if f.address else ''}\n"
        f"Departamento: {f.agency_name}\n"
        f"Fecha prevista: {when(f.expected)}\n\n"
        f"{status_hint}\n"
    )
    return subject, body


def status_changed(f: TicketFacts, note: str | None) -> tuple[str, str]:
    subject = f"311 de {f.city}: la solicitud {f.number} está {_state(f)}"
    body = (
        f"Su solicitud {f.number} ({f.service_name}) ahora está {_state(f)}.\n"
        + (f"\n{note}\n" if note else "")
        + f"\nFecha prevista: {when(f.expected)}\n"
    )
    return subject, body


def closed(f: TicketFacts, resolution: str, reopen_hint: str) -> tuple[str, str]:
    subject = f"311 de {f.city}: se cerró la solicitud {f.number}"
    body = (
        f"{f.agency_name} cerró su solicitud {f.number} ({f.service_name}).\n\n"
        f"Resolución: {resolution}\n\n"
        f"Si no se hizo el trabajo: {reopen_hint}\n"
    )
    return subject, body


def sms(kind: str, f: TicketFacts, extra: str = "") -> str:
    if kind == "created":
        return f"311 de {f.city}: recibimos la solicitud {f.number}. Fecha prevista: " \
               f"{when(f.expected)}."
    if kind == "closed":
        return f"311 de {f.city}: se cerró la solicitud {f.number}. {extra}"[:320]
    return f"311 de {f.city}: la solicitud {f.number} ahora está {_state(f)}."


def comment_received(f: TicketFacts) -> tuple[str, str]:
    subject = f"311 de {f.city}: agregamos su mensaje a la solicitud {f.number}"
    body = (
        f"Agregamos su mensaje a la solicitud {f.number} ({f.service_name}) y avisamos a "
        f"{f.agency_name}.\nEstá {_state(f)}. Fecha prevista: {when(f.expected)}\n"
    )
    return subject, body
