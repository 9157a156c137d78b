"""What every CRM page and JSON route shares: the services the app factory hands them
(``CrmWeb``), who may see a ticket, and the one table that maps domain errors to HTTP statuses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from crm_bridge.config import CrmConfig
from crm_bridge.models import Ticket
from crm_bridge.tickets import service
from crm_bridge.tickets.checkdigit import InvalidTicketNumber
from crm_bridge.tickets.errors import CrmError, InvalidInput, NotFound
from crm_bridge.tickets.lifecycle import LifecycleError
from foundation import auth
from foundation.db import Database
from foundation.settings import Settings
from foundation.users import Role, User


@dataclass(frozen=True)
class CrmWeb:
    """What the CRM views are built with (``crm_bridge.web.app.create_blueprints``)."""

    settings: Settings
    db: Database
    cfg: CrmConfig  # ``crm_bridge.config.from_settings(settings)``, computed once


# Domain error -> HTTP status (most specific class first). The error's ``code`` travels as is.
STATUS: list[tuple[type[Exception], int]] = [
    (NotFound, 404),
    (LifecycleError, 409),
    (InvalidInput, 400),
    (InvalidTicketNumber, 400),
    (CrmError, 400),
]
DOMAIN_ERRORS = (CrmError, InvalidTicketNumber)

# Who works tickets. Agency workers only see their own agency's tickets.
STAFF = (Role.AGENCY, Role.AGENT, Role.SUPERVISOR)


def status_of(exc: Exception) -> int:
    return next(code for kind, code in STATUS if isinstance(exc, kind))


def code_of(exc: Exception) -> str:
    return getattr(exc, "code", "invalid_ticket_number")


def user() -> User:
    u = auth.current_user()
    assert u is not None  # every route here is behind @roles
    return u


def agency_scope(u: User) -> str | None:
    """The only agency code this user may see (agency workers), None for everyone else."""
    if u.role == Role.AGENCY.value:
        return u.agency or "-"  # an agency worker without an agency sees nothing
    return None


def ticket_for(session: Session, number: str, u: User, *, lock: bool = False) -> Ticket:
    """The ticket, if this user may see it; NotFound otherwise (no hint that it exists)."""
    t = service.get_ticket(session, number, lock=lock)
    scope = agency_scope(u)
    if scope is not None and t.agency.code != scope:
        raise NotFound("ticket_not_found", f"no ticket {number}")
    return t


def form_text(form: Any, name: str) -> str:
    return str(form.get(name) or "").strip()
