"""ACD web surface: the metrics API and Prometheus exposition."""

from __future__ import annotations

import hmac
import ipaddress
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from acd import queries
from acd.wallboard import SelfService
from foundation.auth import public, roles
from foundation.db import Database, utcnow
from foundation.settings import Settings
from foundation.timeparse import city_today, parse_instant
from foundation.users import Role
from foundation.web import Mount


def today_bounds(settings: Settings, now: datetime | None = None) -> tuple[datetime, datetime]:
    """Midnight to midnight of the city's current day, as aware datetimes."""
    return city_today(settings.timezone, now or utcnow())


class BadRequest(ValueError):
    pass


def _when(name: str, default: datetime) -> datetime:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        return parse_instant(raw)  # a machine interface: no offset means UTC
    except ValueError as exc:
        raise BadRequest(f"{name}: {exc}") from exc


def scrape_refusal(settings: Settings, remote_addr: str | None,
                   authorization: str | None) -> tuple[int, str] | None:
    """Why ``/metrics`` refuses this request (status, reason), or None to answer it.

    A bearer token equal to ``metrics_token`` is admitted from anywhere; without one, only
    an address inside ``metrics_allow``. A wrong token is refused even from an allowed
    address (401), so a misconfigured scraper shows up at once."""
    token = settings.metrics_token
    scheme, _, presented = (authorization or "").partition(" ")
    if authorization:
        if scheme.lower() != "bearer" or not token or not hmac.compare_digest(
                presented.strip().encode(), token.encode()):
            return 401, "invalid bearer token"
        return None
    try:
        addr = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        addr = None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if addr is not None and any(addr in ipaddress.ip_network(n, strict=False)
                                for n in settings.metrics_allow):
        return None
    if token:
        return 401, "a bearer token is required"
    return 403, "this address is not in metrics_allow"


def create_blueprints(settings: Settings, db: Database, self_service: SelfService) -> list[Mount]:
    """The metrics API and the Prometheus exposition, bound to ``settings`` and ``db``."""
    bp = Blueprint("acd", __name__, template_folder="templates")

    @bp.route("/api/v1/metrics")
    @roles(Role.SUPERVISOR, Role.MANAGER)
    def metrics_api() -> Any:
        start, end = today_bounds(settings)
        try:
            t0, t1 = _when("from", start), _when("to", end)
        except BadRequest as exc:
            return jsonify(error="bad_datetime", description=str(exc)), 400
        if t1 <= t0:
            return jsonify(error="bad_period", description="'to' must be after 'from'"), 400
        with db.session() as s:
            report = queries.report(s, t0, t1, request.args.get("queue") or None, settings)
            ivr = self_service(s, t0, t1)  # IVR self-service: contained vs agent per option
        return jsonify({**report, "ivr": ivr})


    @bp.route("/metrics")
    @public  # no log-in: guarded by a bearer token or the address (scrape_refusal)
    def prometheus() -> Any:
        from acd.prometheus import exposition

        refusal = scrape_refusal(settings, request.remote_addr,
                                 request.headers.get("Authorization"))
        if refusal is not None:
            status, reason = refusal
            headers = {"WWW-Authenticate": 'Bearer realm="metrics"'} if status == 401 else {}
            return Response(reason + "\n", status=status, headers=headers,
                            content_type="text/plain; charset=utf-8")
        body, content_type = exposition(settings, db, today_bounds(settings))
        return Response(body, content_type=content_type)

    return [Mount(bp)]
