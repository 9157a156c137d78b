"""The one CRM blueprint ("crm"): the worker pages, the admin catalog, the agent desktop and the
staff JSON API each add their routes to it from their own module (see ``crm_bridge.web.app``)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("crm", __name__, template_folder="templates")
