"""Twilio's REST API below one account, as civic311 uses it: a POST (the ACD's dequeue and
redirect, a conference participant's hold), a DELETE (a conference participant; a
recording Twilio holds: ``foundation/twilio_deletions.py``), a GET (the Call and Queue
resources the ACD reconciles with; lists page by page), and the credentials all take (an
API key when set, else the account's auth token). For a POST or a participant's DELETE,
404 (the call left the queue, or ended) and 400 (a request Twilio refuses) are
``retry.Permanent``; any other failure is worth retrying."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import requests

from foundation import retry
from foundation.settings import Settings

TIMEOUT_S = 10
RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")
RECORDING_IN_URL = re.compile(r"/Recordings/(RE[0-9a-fA-F]{32})(?:\.\w+)?/?$")


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

    def url(self, path: str) -> str:
        return f"{self.base}/2010-04-01/Accounts/{self.account_sid}/{path}"

    def post(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        """POST ``form`` to ``/2010-04-01/Accounts/<sid>/<path>``; the JSON answer."""
        resp = requests.post(self.url(path), data=form, auth=self.auth, timeout=TIMEOUT_S)
        if resp.status_code in (400, 404):
            raise retry.Permanent(f"Twilio answered {resp.status_code}: {resp.text[:200]}")
        resp.raise_for_status()
        body = resp.json() if resp.content else {}
        return body if isinstance(body, dict) else {}

    def delete(self, path: str) -> dict[str, Any]:
        """DELETE ``/2010-04-01/Accounts/<sid>/<path>`` (a conference participant removed);
        404 (already gone) is ``retry.Permanent``, as for a POST."""
        resp = requests.delete(self.url(path), auth=self.auth, timeout=TIMEOUT_S)
        if resp.status_code in (400, 404):
            raise retry.Permanent(f"Twilio answered {resp.status_code}: {resp.text[:200]}")
        resp.raise_for_status()
        return {}

    def get(self, path: str) -> dict[str, Any] | None:
        """GET ``/2010-04-01/Accounts/<sid>/<path>``: the JSON resource, None when Twilio
        has no such resource (404). Anything else that fails raises."""
        resp = requests.get(self.url(path), auth=self.auth, timeout=TIMEOUT_S)
        if resp.status_code == 404:
            return None
        resp.raise_for_status()
        body = resp.json() if resp.content else {}
        return body if isinstance(body, dict) else {}

    def listing(self, path: str, key: str, page_size: int = 1000) -> list[dict[str, Any]]:
        """Every item of a list resource (``Queues.json``: key ``queues``), page after page:
        Twilio answers 50 a page unless asked, and names the next page in ``next_page_uri``.
        None of it when the list itself is not found; anything else that fails raises."""
        url: str | None = f"{self.url(path)}?PageSize={page_size}"
        items: list[dict[str, Any]] = []
        while url:
            resp = requests.get(url, auth=self.auth, timeout=TIMEOUT_S)
            if resp.status_code == 404:
                return items
            resp.raise_for_status()
            body = resp.json() if resp.content else {}
            if not isinstance(body, dict):
                break
            items.extend(i for i in body.get(key) or [] if isinstance(i, dict))
            nxt = body.get("next_page_uri")
            url = f"{self.base}{nxt}" if nxt else None
        return items

    def delete_recording(self, recording_sid: str) -> int:
        """DELETE one recording; Twilio's status: 204 (deleted) or 404 (already gone), both
        meaning Twilio holds no copy any more. Anything else raises (worth retrying)."""
        if not RECORDING_SID.fullmatch(recording_sid):
            raise retry.Permanent(f"{recording_sid!r} is not a Twilio recording SID")
        resp = requests.delete(self.url(f"Recordings/{recording_sid}.json"), auth=self.auth,
                               timeout=TIMEOUT_S)
        if resp.status_code != 404:
            resp.raise_for_status()
        return resp.status_code


def recording_sid(url: str) -> str:
    """The recording SID at the end of a Twilio recording URL (``.../Recordings/RE...``), or
    "" when the URL names none."""
    m = RECORDING_IN_URL.search(url.split("?", 1)[0])
    return m.group(1) if m else ""
