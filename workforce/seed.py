"""Demo data: this year's and next year's US federal holidays as special days (idempotent)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation.settings import Settings
from workforce import models, queries
from workforce.history import SpecialDay
from workforce.holidays import us_federal_holidays


def holidays(session: Session, settings: Settings) -> list[str]:
    """Federal holidays kept out of forecast training for every queue; days a manager has
    already entered are left as they are."""
    year = datetime.now(ZoneInfo(settings.timezone)).year
    have = set(session.scalars(select(models.WfmSpecialDay.day).where(
        models.WfmSpecialDay.queue == "")))
    new = [SpecialDay(day, "exclude", 1.0, name) for y in (year, year + 1)
           for day, name in us_federal_holidays(y) if day not in have]
    queries.put_special_days(session, new)
    return [f"workforce: {len(new)} federal holiday(s) added as special days"]
