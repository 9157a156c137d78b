"""``civic311 seed demo``: a sample city, and one user per role (passwords printed once)."""

from __future__ import annotations

import importlib
import secrets
from collections.abc import Iterator

from sqlalchemy import select

from center.demo import person_seat
from foundation.db import Database
from foundation.settings import Settings
from foundation.users import Role, User, create_user

DEMO_USERS = [
    ("agent", Role.AGENT, "Alex Agent", {}),  # the demo's seat for a person (center.demo)
    ("supervisor", Role.SUPERVISOR, "Sam Supervisor", {}),
    ("qa", Role.QA, "Quinn Evaluator", {}),
    ("agency", Role.AGENCY, "Dana Sanitation", {"agency": "DSNY"}),
    ("manager", Role.MANAGER, "Morgan Manager", {}),
    ("admin", Role.ADMIN, "Ada Admin", {}),
]

# Capability seeders: "module:function(session, settings) -> list[str]".
SEEDERS = ["crm_bridge.seed:seed_catalog", "places.seed:seed_places", "recordings.seed:seed_qa",
           "workforce.seed:holidays"]


def seed_demo(settings: Settings, db: Database) -> Iterator[str]:
    for spec in SEEDERS:
        module_name, attr = spec.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        with db.session() as s:
            yield from getattr(module, attr)(s, settings)
    yield f"queues: {', '.join(settings.queue_names())}; agent phones: " \
          f"{', '.join('agent' + e for e in settings.agent_extensions)}"
    with db.session() as s:
        for username, role, name, extra in DEMO_USERS:
            if s.scalar(select(User).where(User.username == username)) is not None:
                yield f"user {username:<10} ({role.value}) already exists"
                continue
            password = secrets.token_urlsafe(12)
            if role is Role.AGENT:
                extra = {"agent_ext": person_seat(settings)}
            create_user(s, username, password, role.value, full_name=name, **extra)
            yield f"user {username:<10} ({role.value}) password: {password}"
