"""The phone account page of the agent desktop area: the SIP account an agent types into a
desk phone or softphone (``telephony.phones``). An agent sees their own; an admin sees any
agent's. The page holds a password: it is never cached.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, make_response, render_template

from foundation.auth import current_user, roles
from foundation.db import Database
from foundation.settings import Settings
from foundation.users import Role
from foundation.web import Mount
from telephony import phones


def create_blueprints(settings: Settings, db: Database) -> list[Mount]:
    bp = Blueprint("phone", __name__, template_folder="templates")

    def page(acct: phones.PhoneAccount | None, **extra: Any) -> Any:
        resp = make_response(render_template("acd/phone.html", acct=acct, **extra))
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @bp.route("/agent/phone")
    @roles(Role.AGENT)
    def mine() -> Any:
        """The signed-in agent's own account; an admin without a seat gets the list of seats."""
        user = current_user()
        ext = user.agent_ext if user else None
        if ext is not None and ext in settings.agent_extensions:
            return page(phones.account(settings, ext))
        if user is not None and user.role == Role.ADMIN.value:
            return page(None, seats=settings.agent_extensions)
        return page(None, missing=ext)

    @bp.route("/agent/phone/<ext>")
    @roles(Role.ADMIN)
    def of_agent(ext: str) -> Any:
        try:
            return page(phones.account(settings, ext), seats=settings.agent_extensions)
        except phones.UnknownAgent:
            abort(404)

    return [Mount(bp)]
