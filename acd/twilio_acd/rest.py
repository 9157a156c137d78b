"""Twilio's REST API as the ACD uses it: one POST below the account (a Queue Member's
dequeue, a Call's redirect). Answers 404 (the call left the queue, or ended) and 400 (a
request Twilio refuses) are ``retry.Permanent``; any other failure is worth retrying."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from foundation import retry
from foundation.settings import Settings

TIMEOUT_S = 10


@dataclass(frozen=True)
class Rest:
    base: str  # https://api.twilio.com (or the simulator)
    account_sid: str
    auth: tuple[str, str]  # (API key sid, secret) or (account sid, auth token)

    @classmethod
    def from_settings(cls, settings: Settings) -> Rest | None:
        sid, token = settings.twilio_account_sid, settings.twilio_auth_token
        if not sid or not token:
            return None
        key, secret = settings.twilio_api_key_sid, settings.twilio_api_key_secret
        return cls(settings.twilio_api_base.rstrip("/"), sid,
                   (key, secret) if key and secret else (sid, token))

    def post(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        """POST ``form`` to ``/2010-04-01/Accounts/<sid>/<path>``; the JSON answer."""
        url = f"{self.base}/2010-04-01/Accounts/{self.account_sid}/{path}"
        resp = requests.post(url, data=form, auth=self.auth, timeout=TIMEOUT_S)
        if resp.status_code in (400, 404):
            raise retry.Permanent(f"Twilio answered {resp.status_code}: {resp.text[:200]}")
        resp.raise_for_status()
        body = resp.json() if resp.content else {}
        return body if isinstance(body, dict) else {}
