"""Callbacks for calls that came in through Twilio: the worker places them with Twilio's REST
API (``Calls.json``) when they fall due; when the resident answers, Twilio fetches
``/twilio/callback/<id>`` and the call joins the queue like any other (``<Enqueue>``).

The request table and its rules are the same as for Asterisk callbacks (ivr/callback/rules.py,
ivr/callback/queries.py); only the way out differs (dial string ``twilio``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

import requests

from foundation import retry
from foundation.db import Database, utcnow
from foundation.jobs import Job
from foundation.settings import Settings
from ivr.callback import queries as store
from ivr.callback import rules as cb
from ivr.callback.models import CallbackRequest

log = logging.getLogger(__name__)

PLACE_EVERY_S = 30
SILENT_AFTER = timedelta(minutes=15)  # a placed call Twilio never reported on: retried


def configured(settings: Settings) -> bool:
    return bool(settings.twilio_account_sid and settings.twilio_auth_token
                and settings.twilio_from_number and settings.public_base_url)


def _place(url: str, auth: tuple[str, str], data: dict[str, str]) -> None:
    resp = requests.post(url, timeout=15, auth=auth, data=data)
    if resp.status_code == 400:  # Twilio refuses the request itself (an invalid number)
        raise retry.Permanent(f"Twilio refused the call: {resp.text[:200]}")
    resp.raise_for_status()


def place_due(settings: Settings, db: Database, now: datetime | None = None) -> int:
    """Ask Twilio to call every due resident back; returns how many calls it accepted.

    A failed request counts as an attempt that nobody answered (retried later, then
    ``failed``); one Twilio refuses outright (400: the number is not valid) fails at once.
    A callback is never silently dropped, and one that goes wrong never stops the others.
    """
    if not configured(settings):
        return 0
    now = now or utcnow()
    sid, token = settings.twilio_account_sid or "", settings.twilio_auth_token or ""
    base = (settings.public_base_url or "").rstrip("/")
    url = f"{settings.twilio_api_base.rstrip('/')}/2010-04-01/Accounts/{sid}/Calls.json"
    for row in store.open_requests(db):  # lost between us and Twilio (a crash, no status)
        if (row.dial == cb.TWILIO_DIAL and row.state in ("originating", "calling")
                and now - row.updated_at > SILENT_AFTER):
            store.requeue(db, row.id, row.state, now, "no word from Twilio")
    placed = 0
    for row in store.take_due(db, now, via_twilio=True):
        try:
            placed += _place_one(db, row, url, (sid, token), settings, base, now)
        except Exception:
            log.exception("callback %d: could not be placed; the others go on", row.id)
            store.finish_dial(db, row.id, "ERROR", 0, now)  # counted as an attempt
    return placed


def _place_one(db: Database, row: CallbackRequest, url: str, auth: tuple[str, str],
               settings: Settings, base: str, now: datetime) -> int:
    if store.start_dial(db, row.id, now, from_state="originating") is None:
        return 0
    # start_dial committed the claim; the HTTP call runs with no transaction open
    outcome = retry.attempt(partial(_place, url, auth, {
        "To": row.number, "From": settings.twilio_from_number or "",
        "Url": f"{base}/twilio/callback/{row.id}",
        "StatusCallback": f"{base}/twilio/callback/{row.id}/status"}),
        (requests.RequestException,), retry.as_text)
    if outcome.permanent:
        log.warning("callback %d: %s; failed", row.id, outcome.error)
        store.give_up(db, row.id, now, outcome.error or "")
        return 0
    if not outcome.ok:
        log.warning("callback %d: Twilio did not take the call (%s); will retry", row.id,
                    outcome.error)
        store.finish_dial(db, row.id, "TWILIO-REFUSED", 0, now)
        return 0
    log.info("callback %d: Twilio is calling %s back", row.id, row.number)
    return 1


def jobs(settings: Settings, db: Database) -> list[Job]:
    return [Job("ivr.twilio_callbacks", lambda: place_due(settings, db), seconds=PLACE_EVERY_S)]
