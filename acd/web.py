"""ACD web surface: the metrics API and Prometheus exposition."""

from __future__ import annotations

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
    @public
    def prometheus() -> Any:
        from acd.prometheus import exposition

        body, content_type = exposition(settings, db, today_bounds(settings))
        return Response(body, content_type=content_type)

    return [Mount(bp)]
