"""The CRM web adapter's entry point for the app factory (``foundation.web`` contract)."""

from __future__ import annotations

from flask import Blueprint

from crm_bridge.config import from_settings
from crm_bridge.scheduled import web as scheduled
from crm_bridge.web import admin, api, desktop, pages, performance, reports
from crm_bridge.web.context import CrmWeb
from foundation.db import Database
from foundation.settings import Settings
from foundation.web import Mount

# The worker pages, the admin catalog, the agent desktop, the staff JSON API, the public
# performance page, the request reports and the scheduled reports: each module's
# ``register(bp, web)`` adds its views to the one "crm" blueprint.
ROUTE_MODULES = (pages, admin, desktop, api, performance, reports, scheduled)


def create_blueprints(settings: Settings, db: Database) -> list[Mount]:
    """The "crm" blueprint with every CRM page and staff API route on it."""
    web = CrmWeb(settings=settings, db=db, cfg=from_settings(settings))
    bp = Blueprint("crm", __name__, template_folder="templates")
    for module in ROUTE_MODULES:
        module.register(bp, web)
    return [Mount(bp)]
