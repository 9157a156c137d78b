"""Open311 GeoReport v2 server under ``/open311/v2/`` (JSON and XML).

GETs are public and answer with the public view of each request
(``crm_bridge.open311.public_view``: hundred-block address, rounded coordinates, descriptions
only where the service type allows, masked); POST checks its own ``api_key`` (so the
blueprint is CSRF-exempt).
Errors are the standard array ``[{"code", "description"}]`` with HTTP 400/403/404.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import yaml
from flask import Blueprint, Response, request
from flask.sansio.app import App
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from crm_bridge.config import from_settings
from crm_bridge.models import Ticket
from crm_bridge.open311 import apikeys
from crm_bridge.open311.queries import (
    Catalog,
    active_service,
    active_services,
    catalog_changed_at,
    definition_dict,
    parent_numbers,
    request_dict,
    request_select,
    service_dict,
    ticket_by_number,
    ticket_by_token,
)
from crm_bridge.open311.wire import FORMATS, errors, parse_request_query, render
from crm_bridge.tickets import service, translations
from crm_bridge.tickets.draft import TicketDraft
from crm_bridge.tickets.errors import CrmError, InvalidInput, NotFound
from foundation import auth
from foundation.db import Database, utcnow
from foundation.settings import Settings
from foundation.web import Mount

PREFIX = "/open311/v2"
SPEC = "http://wiki.open311.org/GeoReport_v2"
OPENAPI = Path(__file__).with_name("openapi.yaml")


class Open311Error(Exception):
    def __init__(self, status: int, description: str, code: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.code = status, description, code or status


def _fmt(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Open311Error(404, f"format {fmt!r} not supported; use json or xml")
    return fmt


def respond(fmt: str, root: str, value: Any, status: int = 200,
            headers: dict[str, str] | None = None) -> Response:
    return Response(render(fmt, root, value), status=status, headers=headers,
                    content_type=FORMATS[fmt])


def error_response(fmt: str, status: int, description: str, code: int | None = None) -> Response:
    return respond(fmt if fmt in FORMATS else "json", "errors",
                   errors([(code or status, description)]), status)


def _locale(types: list[Any]) -> str:
    """The language a catalog answer speaks: ``?locale=es`` (CitySDK's parameter, also used
    by some GeoReport servers), else the best of Accept-Language, among the languages the
    catalog has; else English. An unknown locale is not an error: the answer is English."""
    asked = [request.args.get("locale") or "", *(t for t, _ in request.accept_languages)]
    return translations.pick([t for t in asked if t],
                             translations.languages([st.i18n for st in types]))


def _localized(resp: Response, lang: str) -> Response:
    resp.headers["Content-Language"] = lang
    resp.vary.add("Accept-Language")
    return resp


def _jurisdiction(args: Any, mine: str | None) -> None:
    wanted = (args.get("jurisdiction_id") or "").strip()
    if wanted and mine and wanted != mine:
        raise Open311Error(404, f"jurisdiction_id {wanted!r} not found")


def _path_format() -> str:
    last = request.path.rsplit(".", 1)
    return last[1] if len(last) == 2 and last[1] in FORMATS else "json"


def _float(name: str, value: str | None) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise Open311Error(400, f"{name} must be a number") from None


def _attributes(form: Any) -> dict[str, Any]:
    """``attribute[CODE]=v`` and ``attribute[CODE][]=v1&attribute[CODE][]=v2``."""
    out: dict[str, Any] = {}
    for key in form:
        if not (key.startswith("attribute[") and key.endswith("]")):
            continue
        inner = key[len("attribute["):-1]
        values = form.getlist(key)
        if inner.endswith("]["):
            out[inner[:-2]] = values
        else:
            out[inner] = values if len(values) > 1 else values[0]
    return out


def create_blueprints(settings: Settings, db: Database) -> list[Mount]:
    """The GeoReport v2 blueprint; its views close over the settings and the database."""
    bp = Blueprint("open311", __name__, url_prefix=PREFIX)
    tz = ZoneInfo(settings.timezone)

    @bp.errorhandler(Open311Error)
    def _open311_error(exc: Open311Error) -> Response:
        return error_response(_path_format(), exc.status, exc.description, exc.code)

    @bp.route("/discovery.<fmt>")
    @auth.public
    def discovery(fmt: str) -> Response:
        fmt = _fmt(fmt)
        with db.session() as s:
            changed = catalog_changed_at(s)
        changeset = (changed or utcnow()).strftime("%Y-%m-%dT%H:%M:%SZ")
        base = (settings.public_base_url or request.host_url).rstrip("/") + PREFIX
        return respond(fmt, "discovery", {
            "changeset": changeset,
            "contact": settings.open311_contact,
            "key_service": "Ask the 311 open data team for a key (civic311 apikey create NAME)",
            "endpoints": [{"specification": SPEC, "url": base, "changeset": changeset,
                           "type": "production", "formats": ["text/xml", "application/json"]}],
        })

    @bp.route("/services.<fmt>")
    @auth.public
    def services(fmt: str) -> Response:
        fmt = _fmt(fmt)
        _jurisdiction(request.args, settings.open311_jurisdiction)
        with db.session() as s:
            types = active_services(s)
            lang = _locale(types)
            body = [service_dict(st, lang) for st in types]
        return _localized(respond(fmt, "services", body), lang)

    @bp.route("/services/<code>.<fmt>")
    @auth.public
    def service_definition(code: str, fmt: str) -> Response:
        fmt = _fmt(fmt)
        _jurisdiction(request.args, settings.open311_jurisdiction)
        with db.session() as s:
            st = active_service(s, code)
            if st is None:
                raise Open311Error(404, f"service_code {code!r} not found")
            lang = _locale([st])
            return _localized(respond(fmt, "service_definition", definition_dict(st, lang)),
                              lang)

    @bp.route("/requests.<fmt>", methods=["GET"])
    @auth.public
    def requests_list(fmt: str) -> Response:
        fmt = _fmt(fmt)
        _jurisdiction(request.args, settings.open311_jurisdiction)
        now = utcnow()
        try:
            q = parse_request_query(request.args.to_dict(), tz, now)
        except InvalidInput as exc:
            raise Open311Error(400, str(exc)) from None
        with db.session() as s:
            cat = Catalog(s)
            stmt = request_select(q, cat)
            if stmt is not None and q.extensions:  # their districts in one more query
                stmt = stmt.options(selectinload(Ticket.districts))
            rows = list(s.scalars(stmt)) if stmt is not None else []
            more = len(rows) > q.page_size
            rows = rows[:q.page_size]
            parents = parent_numbers(s, rows) if q.extensions else {}
            body = [request_dict(t, cat, tz, q.extensions, parents.get(t.parent_id or 0),
                                 settings.public_coordinate_decimals) for t in rows]
        headers = {}
        if more:
            args = request.args.to_dict()
            args["page"] = str(q.page + 1)
            nxt = request.base_url + "?" + urlencode(args)  # percent-encoded: a header is ASCII
            headers = {"X-Next-Page-URL": nxt, "Link": f'<{nxt}>; rel="next"'}
        return respond(fmt, "service_requests", body, headers=headers)

    @bp.route("/requests/<request_id>.<fmt>")
    @auth.public
    def request_one(request_id: str, fmt: str) -> Response:
        fmt = _fmt(fmt)
        _jurisdiction(request.args, settings.open311_jurisdiction)
        with db.session() as s:
            t = ticket_by_number(s, request_id)
            if t is None:
                raise Open311Error(404, f"service_request_id {request_id!r} not found")
            ext = (request.args.get("extensions") or "").lower() == "true"
            parents = parent_numbers(s, [t]) if ext else {}
            body = [request_dict(t, Catalog(s), tz, ext, parents.get(t.parent_id or 0),
                                 settings.public_coordinate_decimals)]
        return respond(fmt, "service_requests", body)

    @bp.route("/tokens/<token>.<fmt>")
    @auth.public
    def token(token: str, fmt: str) -> Response:
        fmt = _fmt(fmt)
        _jurisdiction(request.args, settings.open311_jurisdiction)
        with db.session() as s:
            t = ticket_by_token(s, token)
            if t is None:
                raise Open311Error(404, f"token {token!r} not found")
            return respond(fmt, "service_requests", [{"service_request_id": t.number,
                                                      "token": t.token}])

    @bp.route("/requests.<fmt>", methods=["POST"])
    @auth.public
    def requests_create(fmt: str) -> Response:
        fmt = _fmt(fmt)
        form = request.form
        with db.session() as s:
            client = apikeys.client_for(s, form.get("api_key"))
        if client is None:
            raise Open311Error(403, "api_key is missing or not valid")
        _jurisdiction(form, settings.open311_jurisdiction)
        code = (form.get("service_code") or "").strip()
        if not code:
            raise Open311Error(400, "service_code is required")
        lat, long = _float("lat", form.get("lat")), _float("long", form.get("long"))
        address = (form.get("address_string") or "").strip() or None
        address_id = (form.get("address_id") or "").strip() or None
        if (lat is None or long is None) and not address and not address_id:
            raise Open311Error(400, "a location is required: lat and long, address_string, "
                                    "or address_id")
        key = request.headers.get("Idempotency-Key", "").strip()
        cfg = from_settings(settings)

        def opt(name: str) -> str | None:
            return (form.get(name) or "").strip() or None

        try:
            with db.session() as s:
                t = service.open_ticket(
                    s, TicketDraft(
                        code, description=form.get("description") or "", channel="open311",
                        actor=f"open311:{client}", attributes=_attributes(form), address=address,
                        address_id=address_id, lat=lat, long=long, first_name=opt("first_name"),
                        last_name=opt("last_name"), email=opt("email"), phone=opt("phone"),
                        account_id=opt("account_id"), device_id=opt("device_id"),
                        media_url=opt("media_url"), source_client=client,
                        idempotency_key=f"{client}:{key}" if key else None
                    ), config=cfg)
                body = [{"service_request_id": t.number, "token": t.token,
                         "service_notice": f"Expected by {t.due_at.astimezone(tz).date()}"
                         if t.due_at else None, "account_id": t.account_id}]
        except NotFound as exc:
            raise Open311Error(404, str(exc)) from None
        except CrmError as exc:
            raise Open311Error(400, str(exc)) from None
        return respond(fmt, "service_requests", body, status=201)

    @bp.route("/openapi.json")
    @auth.public
    def openapi() -> Response:
        spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
        return Response(json.dumps(spec), content_type="application/json")

    bp.record_once(lambda state: _routing_errors(state.app))
    return [Mount(bp, csrf_exempt=True)]


def _routing_errors(app: App) -> None:
    """Open311 error bodies for routing errors under the prefix (404 path, 405 method)."""
    for code in (404, 405):
        previous = app.error_handler_spec.get(None, {}).get(code, {})
        fallback = next(iter(previous.values()), None) if previous else None

        def handler(exc: HTTPException, _fallback: Any = fallback) -> Any:
            if request.path.startswith(PREFIX + "/"):
                return error_response(_path_format(), exc.code or 400,
                                      exc.description or exc.name)
            return _fallback(exc) if _fallback else exc

        app.register_error_handler(code, handler)
