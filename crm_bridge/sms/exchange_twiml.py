"""Twilio Messaging's inbound webhook, ``POST /twilio/sms``: signed as the voice webhooks
are (``foundation.twilio_webhooks``; 403 otherwise, and nothing changes), answered with
TwiML ``<Response><Message>...</Message></Response>`` built by twilio's
``MessagingResponse``.

Twilio retries a webhook it got no answer to: each MessageSid is answered once and its
reply stored, so a retry gets the same reply and changes nothing. A sender that is not a
phone number (a short code, an alphanumeric sender) gets an empty answer, and nothing is
kept of it."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Blueprint, Response, abort, request
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from twilio.twiml.messaging_response import MessagingResponse

from crm_bridge.config import from_settings
from crm_bridge.models import Ticket
from crm_bridge.sms import keywords, queries
from crm_bridge.sms.conversation import Inbound, respond
from foundation import auth, twilio_webhooks
from foundation.db import Database, utcnow
from foundation.phone_numbers import e164
from foundation.settings import Settings
from foundation.web import Mount

log = logging.getLogger(__name__)
SID = re.compile(r"[A-Za-z]{2}[0-9a-zA-Z]{8,62}")  # SM... / MM... (34 characters at Twilio)
MEDIA_URL_MAX = Ticket.media_url.type.length or 512
MAX_MEDIA = 10  # Twilio sends at most ten media items


def _xml(reply: str) -> Response:
    mr = MessagingResponse()
    if reply:
        mr.message(reply)
    return Response(str(mr), mimetype="text/xml")


def photo_url(form: Any) -> str:
    """The first image sent with the message (an https URL at Twilio), or ""."""
    count = form.get("NumMedia", "0")
    for i in range(min(int(count), MAX_MEDIA) if count.isdigit() else 0):
        url, kind = form.get(f"MediaUrl{i}", ""), form.get(f"MediaContentType{i}", "")
        if kind.startswith("image/") and url.startswith("https://") and \
                len(url) <= MEDIA_URL_MAX:
            return str(url)
    return ""


def create_blueprints(settings: Settings, db: Database) -> list[Mount]:
    """The inbound SMS webhook (endpoint ``twilio_sms.inbound``): signed, so CSRF-exempt."""
    cfg = from_settings(settings)
    bp = Blueprint("twilio_sms", __name__, url_prefix="/twilio")

    @bp.route("/sms", methods=["POST"])
    @auth.public
    def inbound() -> Response:
        """A resident's text (Twilio's Messaging webhook): the reply, as TwiML."""
        if not twilio_webhooks.valid(settings, request):
            abort(403)
        form = request.form
        sid = form.get("MessageSid") or form.get("SmsMessageSid") or ""
        if not SID.fullmatch(sid):
            abort(400, "MessageSid is missing or malformed")
        phone = e164(form.get("From", "")[:64])
        if phone is None:
            return _xml("")
        msg = Inbound(sid, phone, keywords.clean(form.get("Body", "")), photo_url(form),
                      form.get("OptOutType", "")[:16])
        with db.session() as s:
            seen = queries.earlier_reply(s, sid)
        if seen is not None:
            return _xml(seen)
        try:
            with db.session() as s:
                now = utcnow()
                queries.claim_message(s, sid, now)
                reply = respond(s, cfg, msg, now)
                queries.reply_to(s, sid, reply)
        except IntegrityError:  # the same message, answered meanwhile by another try
            with db.session() as s:
                seen = queries.earlier_reply(s, sid)
            if seen is None:
                raise
            return _xml(seen)
        _forget_old(db)
        return _xml(reply)

    def _forget_old(db: Database) -> None:
        """Best effort, in its own transaction: never delays or fails the answer above."""
        try:
            with db.session() as s:
                queries.forget_old(s, utcnow())
        except SQLAlchemyError as exc:
            log.info("sms: clean-up of old exchanges deferred: %s", exc)

    return [Mount(bp, csrf_exempt=True)]
