"""What a capability's web adapter hands the app factory: blueprints built with their
dependencies passed in (Wazo's resources get their services by constructor).

A capability's web entry point is ``create_blueprints(settings, db) -> list[Mount]``; its views
reach the settings, the database and its services through what the factory gave them, never
through ``current_app.extensions``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint


@dataclass(frozen=True)
class Mount:
    blueprint: Blueprint
    csrf_exempt: bool = False  # machine-to-machine endpoints that authenticate otherwise
