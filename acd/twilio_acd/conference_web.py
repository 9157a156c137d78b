"""Hold and attended transfers on Twilio, on the web (``conference`` decides).

Webhooks under ``/twilio/acd/`` (signed by Twilio, 403 otherwise): the TwiML joining the
agent's leg to its call's room (``room``), the room's status callbacks (``conference``),
the consult target's call status (``consult``) and the music on hold (``held``). The
agents' API under ``/api/v1/twilio/``: hold and resume, consult (the same attended-transfer
command the desktop's transfer form queues), complete and cancel the consult.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, jsonify, request
from twilio.twiml.voice_response import Dial, VoiceResponse

from acd import live_store
from acd import transfer as names
from acd.live_store import CommandError
from acd.states import CommandKind
from acd.twilio_acd import conference, routing
from acd.twilio_acd import queries as q
from acd.twilio_acd.models import TwilioEntry
from foundation import twilio_webhooks
from foundation.auth import current_user, roles
from foundation.db import Database, utcnow
from foundation.settings import Settings
from foundation.users import Role
from foundation.web import Mount, id_value

ROOM_RECORDING_URL = "/twilio/recording/room"  # the recordings catalog's (twilio_rooms)
# one of the default waitUrl's classical pieces, Twilio's own hold music [memory]
HOLD_MUSIC = "http://com.twilio.music.classical.s3.amazonaws.com/ClockworkWaltz.mp3"


def recording_callback(uniqueid: str) -> str:
    """The room's recording status callback, naming the call (its CallSid)."""
    return f"{ROOM_RECORDING_URL}?{urlencode({'call': uniqueid})}"


def room_dial(entry_id: int, uniqueid: str, action: str | None = None) -> Dial:
    """``<Dial><Conference>`` into the entry's room; either party leaving ends it (an
    attended transfer turns the agent's off first). ``action``: the caller's Dial action.

    The room is recorded from its start (``record-from-start``; Twilio takes the first
    joiner's attributes): the Dial's recording of the call ends at the move, so the room's
    is the rest of the call, fetched into the catalog with it
    (``recordings/twilio_rooms.py``). Its callback names no call, so its URL does."""
    dial = Dial(action=action, method="POST") if action else Dial()
    dial.conference(conference.room(entry_id), start_conference_on_enter=True,
                    end_conference_on_exit=True, beep=False, wait_url="",
                    status_callback=f"{conference.EVENTS_PATH}/{entry_id}",
                    status_callback_event="start end join leave hold",
                    status_callback_method="POST", record="record-from-start",
                    recording_status_callback=recording_callback(uniqueid),
                    recording_status_callback_event="completed",
                    recording_status_callback_method="POST")
    return dial


def stamp(value: str) -> datetime | None:
    """Twilio's ``Timestamp`` (RFC 2822), None when it is not one."""
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return at if at.tzinfo is not None else None


def _xml(vr: VoiceResponse) -> Response:
    return Response(str(vr), mimetype="text/xml")


def create_blueprints(settings: Settings, db: Database) -> list[Mount]:
    hooks = Blueprint("twilio_conference", __name__, url_prefix="/twilio/acd")
    api = Blueprint("twilio_conference_api", __name__, url_prefix="/api/v1/twilio")
    base = (settings.public_base_url or "").rstrip("/")

    def wrapup_s(queue: str) -> int:
        return routing.wrapup_s(settings, queue)

    signed = twilio_webhooks.signed(settings)

    def caller_id(e: TwilioEntry | None) -> str:
        return settings.twilio_from_number or (e.caller_number if e else "") or ""

    @hooks.route("/room/<int:entry_id>", methods=["POST"])
    @signed
    def room(entry_id: int) -> Response:
        """The agent's leg, redirected out of the Dial, joins the call's room."""
        vr = VoiceResponse()
        with db.session() as s:
            e = s.get(TwilioEntry, entry_id)
            if e is None or e.state != q.CONNECTED or e.room_state == "":
                vr.hangup()
                return _xml(vr)
            uniqueid = e.uniqueid
        vr.append(room_dial(entry_id, uniqueid))
        return _xml(vr)

    @hooks.route("/conference/<int:entry_id>", methods=["POST"])
    @signed
    def events(entry_id: int) -> Response:
        """The room's statusCallback: joins, leaves, holds (a repeat changes nothing)."""
        form = request.form
        with db.session() as s:
            e = s.get(TwilioEntry, entry_id)
            if e is not None:
                conference.event(s, entry_id, form.get("StatusCallbackEvent", ""),
                                 form.get("CallSid", ""), form.get("ConferenceSid", ""),
                                 caller_id(e), base, utcnow(), wrapup_s(e.queue),
                                 id_value(form.get("SequenceNumber")),
                                 stamp(form.get("Timestamp", "")))
        return Response("", status=204)

    @hooks.route("/consult/<int:entry_id>", methods=["POST"])
    @signed
    def consult_status(entry_id: int) -> Response:
        """The consult target's call status (unanswered: the consult is cancelled)."""
        with db.session() as s:
            conference.target_ended(s, entry_id, request.form.get("CallStatus", ""), base,
                                    utcnow())
        return Response("", status=204)

    @hooks.route("/held", methods=["POST"])
    @signed
    def held() -> Response:
        """The HoldUrl: music while the caller is on hold."""
        vr = VoiceResponse()
        vr.play(HOLD_MUSIC, loop=0)
        return _xml(vr)

    def me() -> str:
        user = current_user()
        if user is None or not user.agent_ext:
            abort(403)
        return user.agent_ext

    def done(run: Callable[[Any], str]) -> Any:
        try:
            with db.session() as s:
                detail = run(s)
        except CommandError as exc:
            return jsonify(error="not_now", description=str(exc)), 409
        return jsonify(status=detail), 202

    @api.route("/hold", methods=["POST"])
    @roles(Role.AGENT)
    def hold() -> Any:
        """``{"hold": true|false}``: hold or resume this agent's caller."""
        agent = me()
        on = bool((request.get_json(silent=True) or {}).get("hold", True))
        return done(lambda s: conference.hold(s, agent, on, base, utcnow()))

    @api.route("/consult", methods=["POST"])
    @roles(Role.AGENT)
    def consult() -> Any:
        """``{"agent": ext}`` or ``{"number": "+1..."}``: an attended transfer, queued as the
        same agent command as the desktop's transfer form's (``acd.live_store``)."""
        agent, user = me(), current_user()
        assert user is not None
        data = request.get_json(silent=True) or {}
        kind = (names.TargetKind.AGENT if data.get("agent") else names.TargetKind.REFERRAL)
        value = str(data.get("agent") or data.get("number") or "")
        try:
            with db.session() as s:
                cmd = live_store.request_transfer(
                    s, user.username, agent, CommandKind.ATTENDED_TRANSFER, kind, value,
                    settings.queue_names(), settings.agent_extensions)
                command = cmd.id
        except CommandError as exc:
            return jsonify(error="bad_target", description=str(exc)), 400
        return jsonify(command=command, status="pending"), 202

    @api.route("/consult/complete", methods=["POST"])
    @roles(Role.AGENT)
    def complete() -> Any:
        agent = me()
        return done(lambda s: conference.complete(s, agent, utcnow()))

    @api.route("/consult/cancel", methods=["POST"])
    @roles(Role.AGENT)
    def cancel() -> Any:
        agent = me()
        return done(lambda s: conference.cancel(s, agent, base, utcnow()))

    return [Mount(hooks, csrf_exempt=True), Mount(api)]
