"""Twilio's webhook signature, checked the one way for every capability's webhooks: the
``X-Twilio-Signature`` of ``PUBLIC_BASE_URL`` + path + query, with the form as posted."""

from __future__ import annotations

from flask import Request
from twilio.request_validator import RequestValidator

from foundation.settings import Settings


def valid(settings: Settings, request: Request) -> bool:
    """True when the request is signed by Twilio for our public URL (False without a token)."""
    token, base = settings.twilio_auth_token, settings.public_base_url
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not base or not signature:
        return False
    query = request.query_string.decode()
    url = base.rstrip("/") + request.path + (f"?{query}" if query else "")
    return bool(RequestValidator(token).validate(url, request.form, signature))
