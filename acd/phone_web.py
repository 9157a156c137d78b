"""The phone account page of the agent desktop area: the SIP account an agent types into a
desk phone or softphone (``telephony.phones``). An agent sees their own; an admin sees any
agent's. The page holds a password: it is never cached.

It also serves the desktop's browser phone (WebRTC, ``static/phone/browser-phone.js`` on
the SIP.js library the Makefile installs from the npm registry into ``static/vendor``): its
account as JSON for the signed-in agent, and the training phone page that calls 311 from
the browser as a resident (``telephony.phones.training_phone``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, jsonify, make_response, render_template, send_from_directory

from foundation.auth import current_user, roles
from foundation.db import Database
from foundation.settings import Settings
from foundation.users import Role
from foundation.web import Mount
from telephony import phones


def create_blueprints(settings: Settings, db: Database) -> list[Mount]:
    bp = Blueprint("phone", __name__, template_folder="templates")

    def private(resp: Any) -> Any:
        resp.headers["Cache-Control"] = "no-store"
        return resp

    def page(acct: phones.PhoneAccount | None, **extra: Any) -> Any:
        return private(make_response(render_template("acd/phone.html", acct=acct, **extra)))

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

    @bp.route("/static/acd/<path:filename>")
    @roles(Role.AGENT, Role.SUPERVISOR)
    def asset(filename: str) -> Any:
        """The browser phone's script and its SIP library (for the pages that use them)."""
        if not VENDOR.joinpath("sip.js", "index.js").is_file() and filename.startswith("vendor/"):
            abort(503, "SIP.js is not installed: run `make browser-deps` (npm ci)")
        return send_from_directory(STATIC, filename, max_age=3600)

    @bp.route("/api/v1/agent/browser-phone")
    @roles(Role.AGENT)
    def browser_phone() -> Any:
        """The signed-in agent's browser phone account (the desktop registers with it)."""
        user = current_user()
        ext = user.agent_ext if user else None
        if ext is None or ext not in settings.agent_extensions:
            return private(jsonify(error="no_seat",
                                   description="your account has no agent seat")), 404
        return private(jsonify(ext=ext, queues=settings.queue_names(),
                               pause_reasons=list(settings.pause_reasons),
                               **phones.browser_phone(settings, ext).as_dict()))

    @bp.route("/phone/training")
    @roles(Role.AGENT, Role.SUPERVISOR)
    def training() -> Any:
        """A resident's phone in the browser: call 311 (or a line) to train or to demo."""
        return private(make_response(render_template(
            "acd/training_phone.html", lines=TRAINING_LINES,
            account=phones.training_phone(settings).as_dict())))

    return [Mount(bp)]


STATIC = Path(__file__).resolve().parent / "static"
VENDOR = STATIC / "vendor"  # filled by the Makefile from node_modules (package-lock.json)

# what the training phone may dial: the city menu, the express line, each queue's direct line
TRAINING_LINES = ["311", "3111"]
