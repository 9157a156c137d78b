"""The referral directory: numbers agents transfer callers to when 311 is not the place
(911, 211, a state agency), kept by admins, beside each agency's public number from the
service catalog (handed in by the composition root: acd does not read crm_bridge)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.models import ReferralEntry
from acd.transfer import TransferError, clean_number
from foundation.db import utcnow


@dataclass(frozen=True)
class Referral:
    name: str
    number: str  # dialable: digits, optional leading +
    source: str  # "admin" (this directory) or "catalog" (an agency's public number)
    note: str = ""
    id: int | None = None


AgencyNumbers = Callable[[Session], Iterable[tuple[str, str]]]  # (agency name, phone)


class ReferralError(ValueError):
    pass


def entries(s: Session) -> list[ReferralEntry]:
    return list(s.scalars(select(ReferralEntry).order_by(ReferralEntry.name)))


def add(s: Session, name: str, number: str, note: str, by: str) -> ReferralEntry:
    """Add an entry; a blank or taken name, or a number that cannot be dialled, stores nothing."""
    name, note = (name or "").strip(), (note or "").strip()
    if not name or len(name) > 128 or any(c in name for c in "\r\n"):
        raise ReferralError("name: one line, 1 to 128 characters")
    try:
        number = clean_number(number)
    except TransferError as exc:
        raise ReferralError(str(exc)) from None
    if s.scalar(select(ReferralEntry.id).where(ReferralEntry.name == name)) is not None:
        raise ReferralError(f"there is already an entry named {name!r}")
    entry = ReferralEntry(name=name, number=number, note=note, created_by=by,
                          created_at=utcnow())
    s.add(entry)
    s.flush()
    return entry


def remove(s: Session, entry_id: int) -> bool:
    entry = s.get(ReferralEntry, entry_id)
    if entry is None:
        return False
    s.delete(entry)
    return True


def directory(s: Session, agency_numbers: AgencyNumbers | None = None) -> list[Referral]:
    """Admin entries, then agencies' public numbers (those that can be dialled), by name."""
    out = [Referral(e.name, e.number, "admin", e.note, e.id) for e in entries(s)]
    for name, phone in (agency_numbers(s) if agency_numbers else ()):
        try:
            out.append(Referral(name, clean_number(phone), "catalog"))
        except TransferError:
            continue  # a catalog number nobody could dial is not offered
    return out
