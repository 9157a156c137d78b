"""The post-call survey on Twilio, the same as the FastAGI route ``survey`` (survey.py).

On a queue with ``survey`` on, when the agent hangs up first the caller's call goes on to
the Dial's action (``acd/twilio_acd/twiml_web.py``: ``dialed``), which redirects it here
with the queue and the agent. ``/twilio/survey`` asks for a key 1-5 (``<Gather
numDigits=1>``) and stores the question (score None, so a caller who hangs up mid-survey
is counted as asked, as on Asterisk); the Gather's action (``?n=1``) stores the rating, or
on no key or another key asks once again (``?n=2``); after that the row stays unrated.
Then thanks and goodbye. Signed by Twilio (403 otherwise); a repeat stores nothing twice.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, request
from sqlalchemy import select
from twilio.twiml.voice_response import Gather, VoiceResponse

from acd import calls
from foundation import auth, twilio_webhooks
from foundation.db import Database, utcnow
from foundation.settings import Settings
from foundation.web import Mount
from ivr.callback.models import CallbackRequest
from ivr.menu_twiml import SAY_LANG, VOICE
from ivr.models import IvrCall
from recordings import survey

log = logging.getLogger(__name__)

URL = "/twilio/survey"  # acd/twilio_acd/twiml_web.py redirects here (SURVEY_URL)


def _say(target: VoiceResponse | Gather, text: str, language: str) -> None:
    target.say(text, language=SAY_LANG.get(language, "en-US"), voice=VOICE.get(language))


def create_blueprints(settings: Settings, db: Database) -> list[Mount]:
    bp = Blueprint("twilio_survey", __name__)

    def language(sid: str) -> str:
        """The caller's IVR language; a called-back resident's is their request's."""
        with db.session() as s:
            lang = s.scalar(select(IvrCall.language).where(IvrCall.uniqueid == sid))
            record = calls.by_uniqueid(s, sid) if lang is None else None
            path = (record.ivr_path or "") if record is not None else ""
            if path.startswith(calls.CALLBACK_PATH_PREFIX):
                cb_id = path.removeprefix(calls.CALLBACK_PATH_PREFIX)
                row = s.get(CallbackRequest, int(cb_id)) if cb_id.isdigit() else None
                lang = row.language if row is not None else None
        return lang if lang in survey.TEXTS else "en"

    @bp.route(URL, methods=["POST"])
    @auth.public
    def ask() -> Response:
        """``q``, ``a``: the queue and the agent; ``n``: the Gather's answer to try ``n``."""
        if not twilio_webhooks.valid(settings, request):
            abort(403)
        sid = request.form.get("CallSid", "")
        queue, agent, n = (request.args.get(k, "") for k in ("q", "a", "n"))
        if not sid or queue not in settings.queue_names() or n not in ("", "1", "2"):
            abort(400)
        lang = language(sid)
        texts = survey.TEXTS[lang]
        score = survey.score_of(request.form.get("Digits", "")) if n else None
        survey.record(db, sid, queue, agent, score, lang, utcnow())  # n "": asked, unrated
        vr = VoiceResponse()
        if score is None and n != "2":
            again = urlencode({"q": queue, "a": agent, "n": "2" if n else "1"})
            gather = vr.gather(num_digits=1, timeout=survey.ASK_TIMEOUT_MS // 1000,
                               action=f"{URL}?{again}", method="POST",
                               action_on_empty_result=True)
            _say(gather, texts["again" if n else "ask"], lang)
            return Response(str(vr), mimetype="text/xml")
        log.info("survey %s: agent %s in %s rated %s", sid, agent, queue, score)
        _say(vr, texts["thanks"], lang)
        vr.hangup()
        return Response(str(vr), mimetype="text/xml")

    return [Mount(bp, csrf_exempt=True)]
