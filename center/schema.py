"""The database schema of the whole center: every capability's models, one Alembic history."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

import acd.models  # noqa: F401  (each import registers its tables on Base.metadata)
import acd.outbound.models  # noqa: F401
import acd.twilio_acd.models  # noqa: F401
import crm_bridge.mail_in.models  # noqa: F401
import crm_bridge.models  # noqa: F401
import crm_bridge.scheduled.models  # noqa: F401
import crm_bridge.sms.models  # noqa: F401
import foundation.erasure  # noqa: F401
import foundation.heartbeat  # noqa: F401
import foundation.throttle  # noqa: F401
import foundation.twilio_deletions  # noqa: F401
import foundation.users  # noqa: F401
import ivr.callback.models  # noqa: F401
import ivr.models  # noqa: F401
import places.models  # noqa: F401
import recordings.models  # noqa: F401
import workforce.models  # noqa: F401
from foundation.db import Database


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(db: Database) -> None:
    """Apply every migration up to the heads."""
    command.upgrade(alembic_config(db.url), "heads")
