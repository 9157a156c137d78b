"""The CRM web adapter's entry point for the app factory (``foundation.web`` contract)."""

from __future__ import annotations

from crm_bridge.web import admin, api, desktop, pages
from crm_bridge.web.blueprint import bp
from foundation.db import Database
from foundation.settings import Settings
from foundation.web import Mount

ROUTE_MODULES = (pages, admin, desktop, api)  # each adds its views to ``bp`` when imported


def create_blueprints(settings: Settings, db: Database) -> list[Mount]:
    """The "crm" blueprint with every CRM page and staff API route on it."""
    return [Mount(bp)]
