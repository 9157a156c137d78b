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
from zoneinfo import ZoneInfo

from flask import Blueprint


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
