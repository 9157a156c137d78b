"""ACD web surface: the metrics API and Prometheus exposition."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, jsonify, request

from acd import queries
from foundation.auth import public, roles
from foundation.db import Database, utcnow
from foundation.settings import Settings
from foundation.users import Role
from foundation.web import Mount
from ivr.analytics import containment


def today_bounds(settings: Settings, now: datetime | None = None) -> tuple[datetime, datetime]:
    """Midnight to midnight of the city's current day, as aware datetimes."""
    tz = ZoneInfo(settings.timezone)
    local = (now or utcnow()).astimezone(tz)
    start = datetime.combine(local.date(), time(0), tzinfo=tz)
    return start, datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=tz)


class BadRequest(ValueError):
    pass


def _when(name: str, default: datetime) -> datetime:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise BadRequest(f"{name}: not an ISO 8601 date/time: {raw!r}") from exc
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo("UTC"))


def create_blueprints(settings: Settings, db: Database) -> list[Mount]:
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
            report = queries.report(s, t0, t1, request.args.get("queue") or None,
                                    settings.sl_thresholds_s, settings.short_abandon_s)
            ivr = containment(s, t0, t1)  # IVR self-service: contained vs agent per menu option
        return jsonify({**report, "ivr": ivr})


    @bp.route("/metrics")
    @public
    def prometheus() -> Any:
        from acd.prometheus import exposition

        body, content_type = exposition(settings, db, today_bounds(settings))
        return Response(body, content_type=content_type)

    return [Mount(bp)]
