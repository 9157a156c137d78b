"""The agent side of the Twilio ACD on the web.

Webhooks under ``/twilio/acd/`` (signed by Twilio, 403 otherwise): the TwiML a dequeued
caller runs while an agent's device rings (``offer``), the agent leg's status callbacks
(``leg``: answered), the Dial's action (``dialed``: the call ended, or rang unanswered;
the agent hung up first on a queue with ``survey`` on: on to the post-call survey; the
agent's leg left for a conference: the caller follows, ``conference``), the caller's end
of that room (``room-over``), a transfer's TwiML and the TwiML App's outgoing calls
(``outbound``). The agents' API under ``/api/v1/twilio/``: an access token for the Voice
JavaScript SDK, the device to ring (the browser or a PSTN number), a transfer of the
current call (hold and consult: ``conference_web``).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, abort, jsonify, request
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant
from twilio.twiml.voice_response import Dial, VoiceResponse

from acd.live_store import CommandError
from acd.states import CommandKind
from acd.twilio_acd import conference, conference_web, routing, transfers
from acd.twilio_acd import queries as q
from acd.twilio_acd.models import TwilioEntry
from foundation import twilio_webhooks
from foundation.auth import current_user, roles
from foundation.db import Database, utcnow
from foundation.settings import Settings
from foundation.users import Role
from foundation.web import Mount, id_value

E164 = re.compile(r"\+[1-9]\d{7,14}")
WAIT_URL, ENQUEUED_URL = "/twilio/wait", "/twilio/enqueued"  # the IVR's queue webhooks
RECORDING_URL = "/twilio/recording"  # the recordings catalog's webhook
SURVEY_URL = "/twilio/survey"  # the post-call survey's TwiML (recordings/twilio_survey.py)
TRANSFER_REFUSED = "Sorry, nobody can take your call there right now. Please call again later."


def identity(agent: str) -> str:
    """The Voice SDK client name of an agent's browser phone."""
    return f"agent{agent}"


def _xml(vr: VoiceResponse) -> Response:
    return Response(str(vr), mimetype="text/xml")


def create_blueprints(settings: Settings, db: Database) -> list[Mount]:
    hooks = Blueprint("twilio_acd", __name__, url_prefix="/twilio/acd")
    api = Blueprint("twilio_agent", __name__, url_prefix="/api/v1/twilio")

    def wrapup_s(queue: str) -> int:
        return routing.wrapup_s(settings, queue)

    def surveyed(queue: str) -> bool:
        return any(d.survey for d in settings.queues if d.name == queue)

    signed = twilio_webhooks.signed(settings)

    def offer_no() -> int:
        n = id_value(request.args.get("o"))
        if n is None:
            abort(400)
        return n

    def requeue(vr: VoiceResponse, queue: str) -> VoiceResponse:
        """Back into the queue (the caller keeps their entry time, so their place)."""
        vr.enqueue(queue, action=f"{ENQUEUED_URL}?q={quote(queue)}", method="POST",
                   wait_url=WAIT_URL, wait_url_method="POST")
        return vr

    @hooks.route("/offer/<int:entry_id>", methods=["POST"])
    @signed
    def offer(entry_id: int) -> Response:
        """The dequeued caller hears ringing while the chosen agent's device rings."""
        n = offer_no()
        with db.session() as s:
            e = q.current_offer(s, entry_id, n)
            if e is None:  # a stale or unknown offer: the caller goes back in line
                known = s.get(TwilioEntry, entry_id)
                if known is None or known.state == q.DONE:
                    vr = VoiceResponse()
                    vr.hangup()
                    return _xml(vr)
                return _xml(requeue(VoiceResponse(), known.queue))
            agent = q.agent_row(s, e.agent or "")
            device = agent.device
        vr = VoiceResponse()
        leg = {"status_callback": f"/twilio/acd/leg/{entry_id}?o={n}",
               "status_callback_event": "answered", "status_callback_method": "POST"}
        dial = Dial(action=f"/twilio/acd/dialed/{entry_id}?o={n}", method="POST",
                    timeout=routing.RING_S, record="record-from-answer-dual",
                    recording_status_callback=RECORDING_URL,  # recordings/twilio_fetch.py
                    recording_status_callback_event="completed")
        if device:
            dial.number(device, **leg)
        else:
            dial.client(identity(e.agent or ""), **leg)
        vr.append(dial)
        return _xml(vr)

    @hooks.route("/leg/<int:entry_id>", methods=["POST"])
    @signed
    def leg(entry_id: int) -> Response:
        """The agent leg's status: answered connects the call (a repeat changes nothing)."""
        n = offer_no()
        if request.form.get("CallStatus") == "in-progress":
            with db.session() as s:
                e = q.current_offer(s, entry_id, n)
                if e is not None:
                    q.connect(s, e, utcnow(), request.form.get("CallSid"))
        return Response("", status=204)

    @hooks.route("/dialed/<int:entry_id>", methods=["POST"])
    @signed
    def dialed(entry_id: int) -> Response:
        """The Dial's action: the talk is over, or the agent let it ring."""
        n = offer_no()
        status = request.form.get("DialCallStatus", "")
        caller_there = request.form.get("CallStatus", "") == "in-progress"
        try:
            duration = float(request.form.get("DialCallDuration", "") or 0)
        except ValueError:
            abort(400)
        now = utcnow()
        vr = VoiceResponse()
        with db.session() as s:
            e = s.get(TwilioEntry, entry_id)
            if e is None or e.offers != n:
                vr.hangup()
                return _xml(vr)
            if status == "completed" and e.state == q.OFFERED and duration > 0:
                # the answered callback was lost or comes late: answered this long ago
                q.connect(s, e, now - timedelta(seconds=duration),
                          request.form.get("DialCallSid"))
            if e.state == q.CONNECTED and caller_there and e.room_state in (
                    conference.MOVING, conference.READY):
                # the agent's leg left for the room (a hold or consult): the caller follows
                # (READY: a repeat of this action, once they are there)
                vr.append(conference_web.room_dial(entry_id, e.uniqueid,
                                                   f"/twilio/acd/room-over/{e.id}"))
                return _xml(vr)
            if e.state == q.CONNECTED:
                q.complete(s, e, now, duration if status == "completed" else None,
                           "agent" if caller_there else "caller", wrapup_s(e.queue))
                if caller_there and surveyed(e.queue) and e.agent:  # the agent hung up
                    vr.redirect(f"{SURVEY_URL}?{urlencode({'q': e.queue, 'a': e.agent})}",
                                method="POST")
                    return _xml(vr)
                vr.hangup()
                return _xml(vr)
            if e.state == q.OFFERED:
                if not caller_there:  # hung up while the agent's device rang
                    q.abandon_offered(s, e, now)
                    return _xml(vr)
                q.release(s, e, now, rang=True)
                return _xml(requeue(vr, e.queue))
        vr.hangup()
        return _xml(vr)

    @hooks.route("/room-over/<int:entry_id>", methods=["POST"])
    @signed
    def room_over(entry_id: int) -> Response:
        """The caller's Dial into the room ended: the room's end (the agent hung up: on to
        the survey where the queue asks it; handed over: the target left) or the caller's."""
        caller_there = request.form.get("CallStatus", "") == "in-progress"
        vr = VoiceResponse()
        with db.session() as s:
            e = s.get(TwilioEntry, entry_id)
            if e is None:
                vr.hangup()
                return _xml(vr)
            conference.room_over(s, e, caller_there, utcnow(), wrapup_s(e.queue))
            side = q.hangup_side(s, e.uniqueid)
            if caller_there and side == "agent" and surveyed(e.queue) and e.agent:
                vr.redirect(f"{SURVEY_URL}?{urlencode({'q': e.queue, 'a': e.agent})}",
                            method="POST")
                return _xml(vr)
        vr.hangup()
        return _xml(vr)

    @hooks.route("/transfer", methods=["POST"])
    @signed
    def transfer_twiml() -> Response:
        """Where a transferred caller goes (``transfers.target_query``): a queue (a new
        entry of this call), another agent's browser phone, or a referral number."""
        args = request.args
        vr = VoiceResponse()
        queue, number, agent = args.get("queue"), args.get("number", ""), args.get("agent", "")
        if queue:
            from_entry = id_value(args.get("from"))
            if queue not in settings.queue_names() or from_entry is None:
                abort(400)
            with db.session() as s:
                position = transfers.enter(s, request.form.get("CallSid", ""), queue,
                                           from_entry, request.form.get("From"), utcnow())
            if position is None:
                vr.say(TRANSFER_REFUSED, voice="Polly.Joanna", language="en-US")
                vr.hangup()
                return _xml(vr)
            return _xml(requeue(vr, queue))
        dial = Dial(timeout=30)
        if E164.fullmatch(number):
            dial.number(number)
        elif agent.isdigit():
            dial.client(identity(agent))
        else:
            abort(400)
        vr.append(dial)
        return _xml(vr)

    @hooks.route("/outbound", methods=["POST"])
    @signed
    def outbound() -> Response:
        """The TwiML App's Voice URL: an agent's browser phone calls out (E.164 only)."""
        to = request.form.get("To", "")
        caller = request.form.get("From", "")
        if not caller.startswith("client:agent") or not E164.fullmatch(to):
            abort(400)
        vr = VoiceResponse()
        dial = Dial(caller_id=settings.twilio_from_number or None, timeout=30)
        dial.number(to)
        vr.append(dial)
        return _xml(vr)

    def me() -> str:
        user = current_user()
        if user is None or not user.agent_ext:
            abort(403)
        return user.agent_ext

    @api.route("/token")
    @roles(Role.AGENT)
    def token() -> Any:
        """A short-lived access token for this agent's browser phone (Voice grant)."""
        agent = me()
        sid, key = settings.twilio_account_sid, settings.twilio_api_key_sid
        secret = settings.twilio_api_key_secret
        if not (sid and key and secret):
            return jsonify(error="not_configured",
                           description="TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID and "
                                       "TWILIO_API_KEY_SECRET are not all set"), 404
        jwt = AccessToken(sid, key, secret, identity=identity(agent),
                          ttl=settings.twilio_token_ttl_s)
        jwt.add_grant(VoiceGrant(outgoing_application_sid=settings.twilio_twiml_app_sid,
                                 incoming_allow=True))
        return jsonify(token=jwt.to_jwt(), identity=identity(agent),
                       ttl_s=settings.twilio_token_ttl_s)

    @api.route("/device", methods=["POST"])
    @roles(Role.AGENT)
    def device() -> Any:
        """Ring the browser (``number`` empty) or a PSTN number (E.164) for this agent."""
        agent = me()
        number = str((request.get_json(silent=True) or request.form).get("number") or "")
        if number and not E164.fullmatch(number):
            return jsonify(error="bad_number", description="an E.164 number, like +12125550100"
                           ), 400
        with db.session() as s:
            q.agent_row(s, agent).device = number
        return jsonify(agent=agent, device=number or "browser")

    @api.route("/transfer", methods=["POST"])
    @roles(Role.AGENT)
    def transfer() -> Any:
        """Blind transfer of the agent's current call to a number or another agent (the
        browser phone's; the desktop's transfer form queues the same as an agent command)."""
        agent = me()
        data = request.get_json(silent=True) or request.form
        to = str(data.get("number") or data.get("agent") or "")
        if not (E164.fullmatch(to) or (to.isdigit() and len(to) <= 10)):
            return jsonify(error="bad_target",
                           description="transfer to an E.164 number or an agent extension"), 400
        exten = f"ref-{to[1:]}" if to.startswith("+") else f"agent-{to}"
        base = (settings.public_base_url or "").rstrip("/")
        try:
            with db.session() as s:
                e = q.connected_call(s, agent)
                _, uid = transfers.request(s, agent, CommandKind.BLIND_TRANSFER, exten, base,
                                           utcnow(), wrapup_s(e.queue if e else ""))
        except CommandError as exc:
            return jsonify(error="no_call", description=str(exc)), 409
        return jsonify(uniqueid=uid, transfer_to=to, status="pending"), 202

    return [Mount(hooks, csrf_exempt=True), Mount(api)]
