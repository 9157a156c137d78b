"""Open311 API keys: issued once, stored as SHA-256 (a 256-bit random key needs no slow hash)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_bridge.models import ApiKey
from crm_bridge.tickets.errors import CrmError


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, name: str) -> str:
    """Create a key for client ``name``; returns the key (shown once, never stored)."""
    name = name.strip()
    if not name or len(name) > 64:
        raise CrmError("apikey_name", "give the client a name of 1-64 characters")
    if session.scalar(select(ApiKey).where(ApiKey.name == name)) is not None:
        raise CrmError("apikey_exists", f"a key named {name!r} already exists")
    key = secrets.token_urlsafe(32)
    session.add(ApiKey(name=name, key_hash=_hash(key), prefix=key[:6]))
    session.flush()
    return key


def client_for(session: Session, key: str | None) -> str | None:
    """The client name for a valid active key, else None."""
    if not key:
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == _hash(key.strip()),
                                              ApiKey.active.is_(True)))
    return row.name if row else None


def revoke(session: Session, name: str) -> bool:
    row = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if row is None:
        return False
    row.active = False
    return True
