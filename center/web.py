"""The web app factory: mounts each capability's blueprint on one Flask app."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
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
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

import acd.outbound.web
import acd.phone_web
import acd.range_web
import acd.referral_web
import acd.reports
import acd.timeline_web
import acd.twilio_acd.conference_web
import acd.twilio_acd.twiml_web
import acd.wallboard
import acd.web
import crm_bridge.call_facet
import crm_bridge.open311.server
import crm_bridge.public
import crm_bridge.sms.exchange_twiml
import crm_bridge.web.app
import ivr.analytics
import ivr.call_facet
import ivr.callback.tally
import ivr.menu_twiml
import ivr.web
import places.web
import portal.web
import recordings.call_facet
import recordings.qa.web
import recordings.twilio_fetch
import recordings.twilio_survey
import recordings.web
import workforce.web
from foundation import auth
from foundation.db import Database, utcnow
from foundation.heartbeat import read_all
from foundation.settings import Settings
from foundation.users import Role
from foundation.web import DatabaseId, Mount, UnstorableInput, refuse_unstorable


def mounts(settings: Settings, db: Database) -> list[Mount]:
    """Every capability's blueprints, built by its factory with what it needs passed in."""
    return [
        *acd.web.create_blueprints(settings, db, self_service=ivr.analytics.containment),
        *acd.wallboard.create_blueprints(settings, db, self_service=ivr.analytics.containment),
        *acd.reports.create_blueprints(settings, db),
        *acd.phone_web.create_blueprints(settings, db),
        *acd.referral_web.create_blueprints(settings, db,
                                            agency_numbers=crm_bridge.public.agency_numbers),
        *acd.outbound.web.create_blueprints(settings, db),
        *acd.range_web.create_blueprints(settings, db, self_service=ivr.analytics.containment,
                                         callbacks=ivr.callback.tally.tally),
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
        *places.web.create_blueprints(settings, db),
        *portal.web.create_blueprints(settings, db),
        *acd.twilio_acd.twiml_web.create_blueprints(settings, db),
        *acd.twilio_acd.conference_web.create_blueprints(settings, db),
        *recordings.twilio_fetch.create_blueprints(settings, db),
        *recordings.twilio_survey.create_blueprints(settings, db),
        *crm_bridge.sms.exchange_twiml.create_blueprints(settings, db),
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


OPENAPI = Path(__file__).with_name("openapi.yaml")


@bp.route("/api/v1/openapi.json")
@auth.public
def openapi() -> Any:
    """The OpenAPI description of every staff JSON route (``center/openapi.yaml``)."""
    return jsonify(yaml.safe_load(OPENAPI.read_text(encoding="utf-8")))


@bp.route("/admin/status")
@auth.roles(Role.ADMIN, Role.SUPERVISOR)
def status_page() -> Any:
    return render_template("status.html", report=status_report())


JSON_ERRORS = (400, 401, 403, 404, 405, 409, 410)


def _refusal(code: int, error: str, message: str) -> Any:
    """A refused request in the caller's language: an Open311 error array, JSON, or a page."""
    if request.path.startswith(crm_bridge.open311.server.PREFIX + "/"):
        fmt = "xml" if request.path.endswith(".xml") else "json"
        return crm_bridge.open311.server.error_response(fmt, code, message)
    if auth.wants_json():
        return jsonify({"error": error, "message": message}), code
    return render_template("error.html", code=code, message=message), code


def _too_large(exc: RequestEntityTooLarge) -> Any:
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    return _refusal(413, "too_large", f"request body too large: at most {limit} bytes")


def _http_error(exc: HTTPException) -> Any:
    """Werkzeug's errors (401, 403, 404, 405, a CSRF refusal ...) on the JSON APIs as JSON, on
    Open311 as its error array (a page stays a page)."""
    if not (auth.wants_json() or request.path.startswith(crm_bridge.open311.server.PREFIX)):
        return exc
    error = ("unstorable_text" if isinstance(exc, UnstorableInput)
             else (exc.name or "error").lower().replace(" ", "_"))
    return _refusal(exc.code or 500, error, exc.description or exc.name)


def create_app(settings: Settings, db: Database | None = None,
               clock: Callable[[], datetime] = utcnow) -> Flask:
    app = Flask(__name__)
    app.url_map.converters["int"] = DatabaseId  # before any rule is added
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
    for code in JSON_ERRORS:  # before the blueprints: Open311's own handlers fall back to it
        app.register_error_handler(code, _http_error)
    app.before_request(refuse_unstorable)  # before the log-in and its throttle see the text
    app.register_blueprint(bp)
    for mount in mounts(settings, db):
        if mount.csrf_exempt:
            csrf.exempt(mount.blueprint)
        app.register_blueprint(mount.blueprint)
    return app

