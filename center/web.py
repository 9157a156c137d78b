"""The web app factory: mounts each capability's blueprint on one Flask app."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import text
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

import acd.phone_web
import acd.range_web
import acd.reports
import acd.timeline_web
import acd.twilio_acd.twiml_web
import acd.wallboard
import acd.web
import crm_bridge.call_facet
import crm_bridge.open311.server
import crm_bridge.web.app
import ivr.analytics
import ivr.call_facet
import ivr.menu_twiml
import ivr.web
import recordings.call_facet
import recordings.qa.web
import recordings.twilio_fetch
import recordings.web
import workforce.web
from foundation import auth
from foundation.db import Database, utcnow
from foundation.heartbeat import read_all
from foundation.settings import Settings
from foundation.users import Role
from foundation.web import Mount


def mounts(settings: Settings, db: Database) -> list[Mount]:
    """Every capability's blueprints, built by its factory with what it needs passed in."""
    return [
        *acd.web.create_blueprints(settings, db, self_service=ivr.analytics.containment),
        *acd.wallboard.create_blueprints(settings, db, self_service=ivr.analytics.containment),
        *acd.reports.create_blueprints(settings, db),
        *acd.phone_web.create_blueprints(settings, db),
        *acd.range_web.create_blueprints(settings, db, self_service=ivr.analytics.containment),
        *acd.timeline_web.create_blueprints(settings, db, facets=(
            ivr.call_facet.ivr_facet, crm_bridge.call_facet.tickets_facet,
            recordings.call_facet.recording_facet)),
        *crm_bridge.open311.server.create_blueprints(settings, db),
        *crm_bridge.web.app.create_blueprints(settings, db),
        *workforce.web.create_blueprints(settings, db),
        *recordings.web.create_blueprints(settings, db),
        *recordings.qa.web.create_blueprints(settings, db),
        *ivr.web.create_blueprints(settings, db),
        *ivr.menu_twiml.create_blueprints(settings, db),
        *acd.twilio_acd.twiml_web.create_blueprints(settings, db),
        *recordings.twilio_fetch.create_blueprints(settings, db),
    ]


bp = Blueprint("center", __name__)

HOME_BY_ROLE = {
    Role.SUPERVISOR: "wallboard.page",
    Role.MANAGER: "wallboard.page",
    Role.ADMIN: "center.status_page",
}


@bp.route("/")
@auth.roles(*Role)
def home() -> Any:
    user = auth.current_user()
    assert user is not None
    endpoint = HOME_BY_ROLE.get(Role(user.role))
    if endpoint and endpoint in current_app.view_functions:
        return redirect(url_for(endpoint))
    links = [
        (rule.rule, rule.endpoint)
        for rule in current_app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and not rule.arguments and _allowed(rule.endpoint)
        and rule.endpoint not in {"static", "center.home"} and not rule.endpoint.startswith("auth.")
        and not rule.rule.startswith(("/api/", "/open311/", "/twilio/", "/metrics"))
    ]
    return render_template("home.html", links=sorted(links))


def _allowed(endpoint: str) -> bool:
    user = auth.current_user()
    policy = getattr(current_app.view_functions[endpoint], auth._ACCESS, None)
    return policy == "public" or (user is not None and policy is not None and user.role in policy)


def status_report() -> dict[str, Any]:
    db: Database = current_app.extensions["civic311.db"]
    components: dict[str, Any] = {}
    try:
        with db.session() as s:
            s.execute(text("SELECT 1"))
            components = read_all(s)
        components["database"] = {"ok": True, "url": db.engine.url.render_as_string()}
    except Exception as exc:  # the database itself is down: say so, do not 500
        components["database"] = {"ok": False, "error": str(exc).splitlines()[0]}
    components["web"] = {"ok": True}
    for required in ("daemon", "worker"):
        components.setdefault(required, {"ok": False, "error": "no heartbeat yet"})
    return {"ok": all(c.get("ok") for c in components.values()), "components": components}


STATUS_DETAIL_ROLES = {Role.ADMIN.value, Role.SUPERVISOR.value}


@bp.route("/status")
@auth.public
def status() -> Any:
    """Anyone (a load balancer, a monitor) learns "ok" or "degraded"; the components, with
    database URL and errors, only an admin or a supervisor logged in."""
    report = status_report()
    code = 200 if report["ok"] else 503
    user = auth.current_user()
    if user is not None and user.role in STATUS_DETAIL_ROLES:
        return jsonify(report), code
    return jsonify({"status": "ok" if report["ok"] else "degraded"}), code


@bp.route("/admin/status")
@auth.roles(Role.ADMIN, Role.SUPERVISOR)
def status_page() -> Any:
    return render_template("status.html", report=status_report())


def _too_large(exc: RequestEntityTooLarge) -> Any:
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    message = f"request body too large: at most {limit} bytes"
    if request.path.startswith(crm_bridge.open311.server.PREFIX + "/"):
        fmt = "xml" if request.path.endswith(".xml") else "json"
        return crm_bridge.open311.server.error_response(fmt, 413, message)
    if auth.wants_json():
        return jsonify({"error": "too_large", "message": message}), 413
    return render_template("error.html", code=413, message=message), 413


def create_app(settings: Settings, db: Database | None = None,
               clock: Callable[[], datetime] = utcnow) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        WTF_CSRF_TIME_LIMIT=None,
    )
    if not settings.secret_key:
        raise RuntimeError("secret_key is not set; load settings with load_settings()")
    if settings.trusted_proxies:
        # believe X-Forwarded-For/-Proto from exactly this many proxies in front, no more
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    db = db or Database(settings.db_url)
    app.extensions["civic311.db"] = db
    app.extensions["civic311.settings"] = settings
    csrf = CSRFProtect(app)
    auth.install(app, db, settings, clock)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_blueprint(bp)
    for mount in mounts(settings, db):
        if mount.csrf_exempt:
            csrf.exempt(mount.blueprint)
        app.register_blueprint(mount.blueprint)
    return app

