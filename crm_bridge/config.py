"""The CRM's view of the settings: one small frozen object passed to the service functions."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from crm_bridge.tickets.business_calendar import BusinessCalendar, city_holidays

if TYPE_CHECKING:
    from foundation.settings import Settings


class MissingSecret(RuntimeError):
    """The settings carry no secret_key: reopen links cannot be signed."""


@dataclass(frozen=True)
class CrmConfig:
    calendar: BusinessCalendar = field(default_factory=lambda: make_calendar())
    city_name: str = "Civic City"
    reopen_window_days: float = 14.0
    min_resolution_chars: int = 5
    public_base_url: str | None = None
    secret_key: str = ""  # signs reopen links; from_settings requires the settings' secret_key
    sms_enabled: bool = False
    duplicate_radius_m: float = 150.0
    duplicate_window_days: float = 30.0
    public_coordinate_decimals: int = 3  # public lat/long (crm_bridge/open311/public_view.py)

    def reopen_url(self, number: str) -> str:
        base = (self.public_base_url or "").rstrip("/")
        return f"{base}/crm/reopen/{number}?t={self.reopen_signature(number)}"

    def status_url(self, number: str) -> str:
        base = (self.public_base_url or "").rstrip("/")
        return f"{base}/open311/v2/requests/{number}.json"

    def reopen_signature(self, number: str) -> str:
        if not self.secret_key:
            raise MissingSecret("the CRM has no secret_key to sign reopen links with; "
                                "set secret_key in the settings (CIVIC311_SECRET_KEY)")
        mac = hmac.new(self.secret_key.encode(), f"reopen:{number}".encode(), hashlib.sha256)
        return mac.hexdigest()[:20]

    def check_signature(self, number: str, sig: str) -> bool:
        return hmac.compare_digest(self.reopen_signature(number).encode(), (sig or "").encode())


def make_calendar(tz: str = "America/New_York", hours: str = "08:00-17:00",
                  extra: list[str] | None = None, around: int | None = None) -> BusinessCalendar:
    start, end = (time.fromisoformat(p.strip()) for p in hours.split("-"))
    year = around or date.today().year  # noqa: DTZ011 - only picks which years' holidays to list
    holidays = city_holidays(range(year - 2, year + 6),
                             frozenset(date.fromisoformat(d) for d in extra or []))
    return BusinessCalendar(tz=ZoneInfo(tz), opens=start, closes=end, holidays=holidays)


def from_settings(settings: Settings) -> CrmConfig:
    """The CRM's config from the settings; MissingSecret if secret_key is not set."""
    if not settings.secret_key:
        raise MissingSecret("secret_key is not set; the CRM signs residents' reopen links with "
                            "it: set secret_key in the settings file or CIVIC311_SECRET_KEY")
    return CrmConfig(
        calendar=make_calendar(settings.timezone, settings.business_hours, settings.city_holidays),
        city_name=settings.city_name,
        reopen_window_days=settings.reopen_window_days,
        min_resolution_chars=settings.min_resolution_chars,
        public_base_url=settings.public_base_url,
        secret_key=settings.secret_key,
        sms_enabled=bool(settings.twilio_account_sid and settings.twilio_auth_token
                         and settings.twilio_from_number),
        duplicate_radius_m=settings.duplicate_radius_m,
        duplicate_window_days=settings.duplicate_window_days,
        public_coordinate_decimals=settings.public_coordinate_decimals,
    )
