"""Raw HTTP client for another city's (or an agency's) GeoReport v2 endpoint."""

from __future__ import annotations

from typing import Any

import requests

from crm_bridge.outbox.errors import SendError

TIMEOUT_S = 15


def post_request(base_url: str, data: dict[str, Any], idempotency_key: str) -> str:
    """POST requests.json; the remote's service_request_id (or token), else SendError."""
    url = f"{base_url.rstrip('/')}/requests.json"
    try:
        resp = requests.post(url, data=data, timeout=TIMEOUT_S,
                             headers={"Idempotency-Key": idempotency_key})
    except requests.RequestException as exc:
        raise SendError(f"{type(exc).__name__}: {exc}") from exc
    if resp.status_code not in (200, 201):
        raise SendError(f"HTTP {resp.status_code}: {resp.text[:200]}")
    try:
        first = resp.json()[0]
        remote = first.get("service_request_id") or first.get("token")
    except (ValueError, LookupError, AttributeError):
        raise SendError(f"unreadable answer: {resp.text[:200]}") from None
    if not remote:
        raise SendError("the remote returned neither service_request_id nor token")
    return str(remote)


def get_updates(base_url: str, params: dict[str, str]) -> tuple[list[dict[str, Any]], bool]:
    """GET requests.json with ``params``: the rows, and whether a next page exists."""
    resp = requests.get(f"{base_url.rstrip('/')}/requests.json", params=params,
                        timeout=TIMEOUT_S)
    resp.raise_for_status()
    return resp.json(), "X-Next-Page-URL" in resp.headers
