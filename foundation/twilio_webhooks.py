"""Twilio's webhook signature, checked the one way for every capability's webhooks: the
``X-Twilio-Signature`` of ``PUBLIC_BASE_URL`` + path + query, with the form as posted."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Request, abort, request
from twilio.request_validator import RequestValidator

from foundation import auth
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


def signed(settings: Settings) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A view decorator: a public webhook, 403 unless ``valid``."""
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def check(*args: Any, **kwargs: Any) -> Any:
            if not valid(settings, request):
                abort(403)
            return view(*args, **kwargs)
        return auth.public(check)
    return decorate
