"""Demo data: a sample city's agencies and 20+ service types (idempotent)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from crm_bridge.tickets.catalog import import_catalog, load_file
from foundation.settings import Settings

DEMO_CATALOG = Path(__file__).with_name("demo_catalog.yaml")


def seed_catalog(session: Session, settings: Settings | None = None) -> list[str]:
    """Create or update the demo catalog; re-running it changes nothing."""
    return import_catalog(session, load_file(DEMO_CATALOG))
