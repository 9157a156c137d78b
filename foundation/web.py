"""What a capability's web adapter hands the app factory: blueprints built with their
dependencies passed in (Wazo's resources get their services by constructor).

A capability's web entry point is ``create_blueprints(settings, db) -> list[Mount]``; its views
reach the settings, the database and its services through what the factory gave them, never
through ``current_app.extensions``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, Map

ID_MAX = 2**31 - 1  # the largest id an INTEGER column holds (PostgreSQL int4, SQLite alike)


@dataclass(frozen=True)
class Mount:
    blueprint: Blueprint
    csrf_exempt: bool = False  # machine-to-machine endpoints that authenticate otherwise


def local_time(tz: str) -> Callable[[datetime | None], str]:
    """A formatter of UTC instants as wall-clock time in the city's zone (for templates)."""
    zone = ZoneInfo(tz)

    def local(at: datetime | None) -> str:
        return "" if at is None else at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")

    return local


def id_value(raw: str | None) -> int | None:
    """A row id typed in a query or a form: ASCII digits up to ``ID_MAX``, else None (it
    names no row). ``int()`` and ``str.isdigit`` take "²" and "١٢٣" and any size, which then
    failed as a 500 (a ValueError, or PostgreSQL's "integer out of range"). Also a ``type=``
    for ``request.args.get``."""
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > len(str(ID_MAX)):
        return None
    value = int(raw)
    return value if value <= ID_MAX else None


class DatabaseId(IntegerConverter):
    """``<int:...>`` in every route: at most ``ID_MAX`` unless the rule says otherwise, so a
    larger id is a 404 like any id that names nothing. Werkzeug's own converter takes any
    size, and PostgreSQL refuses to bind one past int4 ("integer out of range"): a 500 from
    the first query of every view with an id in its path."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = ID_MAX, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class UnstorableInput(BadRequest):
    """A request carrying a character no database column can hold (NUL, a lone surrogate)."""

    code = 400
    description = "text must not contain NUL or unpaired surrogate characters"


def _unstorable(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(v) for v in value)
    return False


def refuse_unstorable() -> None:
    """``before_request`` hook: refuse (400) NUL or a lone surrogate anywhere in the path, the
    query, the form or a JSON body, for every route at once. PostgreSQL cannot store either, so
    they used to fail deep inside a view as a 500, after the log-in throttle or a search had
    already sent them to the database."""
    parts: list[Any] = [request.path, *request.args.keys(), *request.args.values()]
    if request.method in ("POST", "PUT", "PATCH"):
        if request.is_json:
            parts.append(request.get_json(silent=True))
        else:
            parts += [*request.form.keys(), *request.form.values()]
    if any(_unstorable(p) for p in parts):
        raise UnstorableInput()
