"""The IVR served to Twilio as TwiML (``/twilio/``): the same engine turns as FastAGI.

The engine state travels in the action URL of each ``<Gather>`` (``?s=``), which Twilio
signs back to us, so no session is kept. Every request must carry a valid
``X-Twilio-Signature`` for ``PUBLIC_BASE_URL`` + path (403 otherwise, and nothing changes).
Enqueue results and status callbacks become call records (source ``twilio``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import quote as urlquote

from flask import Blueprint, Response, abort, request, url_for
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Gather, VoiceResponse

from acd import calls
from acd.calls import CallOutcome
from acd.twilio_acd import public as twilio_acd
from crm_bridge.public import InvalidTicketNumber, public_status
from foundation import auth, twilio_webhooks
from foundation.db import Database, utcnow
from foundation.settings import Settings
from foundation.web import Mount
from ivr import emergency_notices as notices
from ivr import engine as e
from ivr.callback import queries as callback_store
from ivr.callback import rules as callback
from ivr.callback import twilio_jobs
from ivr.callback.models import CallbackRequest
from ivr.hours import next_open
from ivr.knowledge import Knowledge
from ivr.menu import Menu, MenuFile, menu_path
from ivr.models import IvrCall, active_notice
from ivr.waiting import estimate_wait_s, wait_minutes

SAY_LANG = {"en": "en-US", "es": "es-MX"}
VOICE = {"en": "Polly.Joanna", "es": "Polly.Mia"}
MONTHS_ES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
             "septiembre", "octubre", "noviembre", "diciembre")
QUEUE_RESULT = {"bridged": CallOutcome.ANSWERED, "hangup": CallOutcome.ABANDONED,
                "leave": CallOutcome.EXIT_KEY, "queue-full": CallOutcome.REFUSED,
                "redirected": CallOutcome.DROPPED, "error": CallOutcome.DROPPED,
                "system-shutdown": CallOutcome.DROPPED,
                "redirected-from-bridged": CallOutcome.ANSWERED}
TERMINAL = {"completed", "busy", "failed", "no-answer", "canceled"}
REFUSED = {"en": "All of our agents are busy right now. Please call again later. Goodbye.",
           "es": "Todos nuestros agentes están ocupados. Por favor llame más tarde. Adiós."}
DEFAULT_AHT_S = 240.0  # as menu_agi: until the queue has answered calls in the last two hours


@dataclass
class Twiml:
    """What the views of one app use: given by ``create_blueprints``."""

    settings: Settings
    db: Database
    knowledge: Knowledge  # the FAQ answers from the catalog (ivr/knowledge.py)
    menus: dict[Path, MenuFile] = field(default_factory=dict)

    def menu(self) -> Menu:
        """The menu (re-read when its file changes) with its knowledge-base answers."""
        path = menu_path(self.settings.data_dir)
        if path not in self.menus:
            self.menus[path] = MenuFile(path, set(self.settings.queue_names()))
        return self.knowledge.apply(self.menus[path].get())


View = Callable[..., Any]
_ROUTES: list[tuple[str, str, View]] = []


def _route(rule: str, method: str) -> Callable[[View], View]:
    """Collect a view (its first argument is the app's ``Twiml``) for ``create_blueprints``."""
    def collect(view: View) -> View:
        _ROUTES.append((rule, method, view))
        return view
    return collect


def _bind(ctx: Twiml, view: View) -> View:
    @wraps(view)  # keeps the view's name (the endpoint) and its access policy
    def bound(*args: Any, **kwargs: Any) -> Any:
        return view(ctx, *args, **kwargs)
    return bound


def create_blueprints(settings: Settings, db: Database) -> list[Mount]:
    """Twilio's webhooks (endpoints ``twilio.*``): signed by Twilio, so CSRF-exempt."""
    ctx = Twiml(settings, db, Knowledge(db))
    bp = Blueprint("twilio", __name__, url_prefix="/twilio")
    for rule, method, view in _ROUTES:
        bp.add_url_rule(rule, view.__name__, _bind(ctx, view), methods=[method])
    return [Mount(bp, csrf_exempt=True)]


def signed(view: Any) -> Any:
    """403 unless X-Twilio-Signature matches PUBLIC_BASE_URL + the path, query and form."""
    @wraps(view)
    def check(ctx: Twiml, *args: Any, **kwargs: Any) -> Any:
        if not twilio_webhooks.valid(ctx.settings, request):
            abort(403)
        return view(ctx, *args, **kwargs)

    return auth.public(check)


def _state_param(s: e.State) -> str:
    raw = json.dumps(asdict(s), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _load_state(param: str) -> e.State:
    try:
        raw = json.loads(base64.urlsafe_b64decode(param + "=" * (-len(param) % 4)))
        raw["path"], raw["node"] = tuple(raw["path"]), e.Node(raw["node"])
        return e.State(**raw)
    except (ValueError, TypeError, KeyError):
        abort(400)


def _spoken_date(d: date, language: str) -> str:
    if language == "es":
        return f"{d.day} de {MONTHS_ES[d.month - 1]} de {d.year}"
    return f"{d:%B} {d.day}, {d.year}"


def _say(ctx: Twiml, target: VoiceResponse | Gather, say: tuple[e.Speech, ...],
         language: str) -> None:
    for item in say:
        lang = item.language if isinstance(item, e.Text | e.Date | e.Recording) else language
        if isinstance(item, e.Recording):
            base = (ctx.settings.public_base_url or "").rstrip("/")  # set: requests are signed
            target.play(base + url_for("twilio.notice_recording", notice_id=item.notice_id))
            continue
        if isinstance(item, e.Text):
            words = item.text
        elif isinstance(item, e.Digits):
            words = " ".join(item.digits)
        else:
            words = _spoken_date(item.day, item.language)
        target.say(words, language=SAY_LANG.get(lang, "en-US"), voice=VOICE.get(lang))


def _lookup(s: Session, menu: Menu, sid: str, digits: str) -> e.Found | e.NotFound:
    result: e.Found | e.NotFound
    try:
        status = public_status(s, digits, menu.timezone)
    except InvalidTicketNumber:
        status, result = None, e.NotFound(invalid=True)
    else:
        result = e.NotFound(invalid=False) if status is None else e.Found(
            status.number, status.state, status.closed, status.agency_name,
            status.expected_date)
    row = s.scalar(select(IvrCall).where(IvrCall.uniqueid == sid))
    if row is not None:
        row.lookups += 1
        if status is not None:
            row.ticket_number = status.number
    return result


def _render(ctx: Twiml, s: Session, menu: Menu, sid: str, turn: e.Turn) -> Response:
    """TwiML for a turn (lookups are done here, in the same request); the call row follows."""
    say: tuple[e.Speech, ...] = ()
    while isinstance(turn.action, e.Lookup):
        say += turn.say
        turn = e.step(menu, turn.state, _lookup(s, menu, sid, turn.action.digits))
    say += turn.say
    state, action = turn.state, turn.action
    lang = state.language or menu.default_language
    vr = VoiceResponse()
    row = s.scalar(select(IvrCall).where(IvrCall.uniqueid == sid))
    if row is not None:
        row.ivr_path, row.option, row.language = state.ivr_path(), state.option, state.language \
            or None
    if isinstance(action, e.Gather):
        g = vr.gather(action=f"/twilio/gather?s={urlquote(_state_param(state))}", method="POST",
                      input="dtmf", num_digits=action.max_digits, timeout=action.timeout_s,
                      finish_on_key=action.finish_on_key, action_on_empty_result=True)
        _say(ctx, g, say, lang)
        return Response(str(vr), mimetype="text/xml")
    _say(ctx, vr, say, lang)
    outcome = e.outcome(state, reached_agent=isinstance(action, e.Queue))
    if isinstance(action, e.Queue) and twilio_acd.active(ctx.settings) and twilio_acd.join(
            s, sid, action.queue, request.form.get("From"), state.ivr_path(), utcnow()) is None:
        _say(ctx, vr, (e.Text(REFUSED.get(lang, REFUSED["en"]), lang),), lang)  # joinempty
        vr.hangup()
        if row is not None:
            row.queue = action.queue
    elif isinstance(action, e.Queue):
        vr.enqueue(action.queue, action=f"/twilio/enqueued?q={urlquote(action.queue)}",
                   method="POST", wait_url=f"/twilio/wait?lang={urlquote(lang)}",
                   wait_url_method="POST")
        if row is not None:
            row.queue = action.queue
    elif isinstance(action, e.Voicemail):
        vr.record(max_length=action.max_s, finish_on_key="#", play_beep=True,
                  action=f"/twilio/recorded?lang={urlquote(lang)}", method="POST")
    else:
        if isinstance(action, e.Callback):
            booked = _book_callback(ctx, menu, sid, state)
            _say(ctx, vr, action.then if booked else (
                e.Text(callback.text(lang, "not_booked"), lang),), lang)
        vr.hangup()
    if row is not None:
        row.outcome = outcome
        if not isinstance(action, e.Queue):
            row.ended_at = utcnow()
    return Response(str(vr), mimetype="text/xml")


def _book_callback(ctx: Twiml, menu: Menu, sid: str, state: e.State) -> bool:
    """After hours: a callback request the worker places through Twilio when agents are next
    in (ivr/callback/twilio_jobs.py); False when there is no number or no Twilio account."""
    settings, db = ctx.settings, ctx.db
    number = callback.dialable(request.form.get("From", ""))
    if not callback.valid_number(number) or not twilio_jobs.configured(settings):
        return False
    now = utcnow()
    callback_store.book(db, sid, menu.agent_queue, number, callback.TWILIO_DIAL,
                        state.language or menu.default_language, now, next_open(menu, now))
    return True


@_route("/callback/<int:callback_id>", "POST")
@signed
def callback_answered(ctx: Twiml, callback_id: int) -> Response:
    """The resident answered Twilio's callback: say who calls, then the queue."""
    db, menu = ctx.db, ctx.menu()
    now = utcnow()
    with db.session() as s:
        row = s.get(CallbackRequest, callback_id)
        queue, lang = (row.queue, row.language) if row else (menu.agent_queue, "en")
        arrival = row.arrival_at if row else None
    call_sid = request.form.get("CallSid", "")
    store_state = callback_store.finish_dial(db, callback_id, "ANSWER", 0, now, call_sid)
    vr = VoiceResponse()
    again = store_state is None and callback_store.answered_by(db, callback_id, call_sid)
    if store_state is None and not again:  # unknown, or answered on another call: never
        vr.hangup()  # queue a stranger twice
        return Response(str(vr), mimetype="text/xml")
    if twilio_acd.active(ctx.settings):  # the ACD queues them, so an agent is offered them
        with db.session() as s:  # (a retried answer is the same caller: joined once)
            joined = twilio_acd.entry_known(s, call_sid) if again else twilio_acd.join(
                s, call_sid, queue, request.form.get("To"),
                f"{callback_store.PLACEHOLDER_PREFIX}{callback_id}", now,
                place_at=arrival) is not None  # the place they kept in line
        if not joined:  # nobody logged in to take it now
            _say(ctx, vr, (e.Text(REFUSED.get(lang, REFUSED["en"]), lang),), lang)
            vr.hangup()
            return Response(str(vr), mimetype="text/xml")
    _say(ctx, vr, (e.Text(callback.text(lang, "returning"), lang),), lang)
    vr.enqueue(queue, action=f"/twilio/enqueued?q={urlquote(queue)}", method="POST",
               wait_url=f"/twilio/wait?lang={urlquote(lang)}", wait_url_method="POST")
    return Response(str(vr), mimetype="text/xml")


@_route("/callback/<int:callback_id>/status", "POST")
@signed
def callback_status(ctx: Twiml, callback_id: int) -> Response:
    """Twilio's status of a callback it placed: one nobody answered is tried again later."""
    db = ctx.db
    status = request.form.get("CallStatus", "")
    if status in ("busy", "no-answer", "failed", "canceled"):
        callback_store.finish_dial(db, callback_id, status.upper(), 0, utcnow())
    elif status in TERMINAL and twilio_acd.active(ctx.settings):  # the called-back call ended
        with db.session() as s:
            twilio_acd.caller_ended(s, request.form.get("CallSid", ""), utcnow(),
                                    {q.name: q.wrapup_s for q in ctx.settings.queues})
    return Response("", status=204)


@_route("/notices/<int:notice_id>.wav", "GET")
@auth.public
def notice_recording(ctx: Twiml, notice_id: int) -> Response:
    """A notice's recording for Twilio's <Play>: Twilio fetches it unsigned, so it is public
    (an emergency notice is a public announcement; nothing else is served here)."""
    return notices.recording_response(ctx.db, notice_id)


@_route("/voice", "POST")
@signed
def voice(ctx: Twiml) -> Response:
    """A new call: notice, language menu."""
    db, menu = ctx.db, ctx.menu()
    sid = request.form.get("CallSid", "")
    if not sid:
        abort(400)
    now = utcnow()
    with db.session() as s:
        notice = active_notice(s, now)
        if s.scalar(select(IvrCall).where(IvrCall.uniqueid == sid)) is None:
            s.add(IvrCall(uniqueid=sid, source="twilio", caller_number=request.form.get("From"),
                          started_at=now, notice_id=notice.id if notice else None, lookups=0,
                          ivr_path=""))
            s.flush()
        turn = e.step(menu, e.State(), e.Start(now, notice.text if notice else None,
                                                notice.recording_id if notice else None))
        return _render(ctx, s, menu, sid, turn)


@_route("/gather", "POST")
@signed
def gather(ctx: Twiml) -> Response:
    db, menu = ctx.db, ctx.menu()
    state = _load_state(request.args.get("s", ""))
    digits = "".join(ch for ch in request.form.get("Digits", "") if ch in "0123456789*#")
    try:
        turn = e.step(menu, state, e.Keys(digits))
    except e.EngineError:
        abort(400)
    with db.session() as s:
        return _render(ctx, s, menu, request.form.get("CallSid", ""), turn)


@_route("/recorded", "POST")
@signed
def recorded(ctx: Twiml) -> Response:
    """After a voicemail: keep where Twilio stored it, then goodbye in the caller's language."""
    db, menu = ctx.db, ctx.menu()
    url = request.form.get("RecordingUrl", "")
    if url.startswith("https://"):
        try:
            length: float | None = float(request.form.get("RecordingDuration", ""))
        except ValueError:
            length = None
        with db.session() as s:
            s.execute(update(IvrCall).where(IvrCall.uniqueid == request.form.get("CallSid", ""))
                      .values(voicemail=url[:512], voicemail_s=length))
    lang = request.args.get("lang", "")
    lang = lang if lang in menu.prompts else menu.default_language
    vr = VoiceResponse()
    _say(ctx, vr, (e.Text(menu.text(lang, "goodbye"), lang),), lang)
    vr.hangup()
    return Response(str(vr), mimetype="text/xml")


@_route("/wait", "POST")
@signed
def wait(ctx: Twiml) -> Response:
    """Twilio's waitUrl (re-run while the caller waits): their place in line, then a pause."""
    menu = ctx.menu()
    lang = request.args.get("lang", "")
    lang = lang if lang in menu.prompts else menu.default_language
    vr = VoiceResponse()
    if twilio_acd.active(ctx.settings):
        with ctx.db.session() as s:
            view = twilio_acd.wait(s, ctx.settings, request.form.get("CallSid", ""),
                                   request.form.get("QueueSid", ""), utcnow())
            if view is not None:
                return _acd_wait(ctx, menu, vr, view, lang, _aht_s(s, ctx, view))
    position = request.form.get("QueuePosition", "")
    if position.isdigit():
        said = f"{menu.text(lang, 'queue_position')} {int(position)}."
        _say(ctx, vr, (e.Text(said, lang),), lang)
    vr.pause(length=20)
    return Response(str(vr), mimetype="text/xml")


def _aht_s(s: Session, ctx: Twiml, view: twilio_acd.WaitView) -> float:
    return DEFAULT_AHT_S if view.staffed == 0 else (calls.average_handle_s(
        s, view.queue, utcnow() - timedelta(hours=2)) or DEFAULT_AHT_S)


def _acd_wait(ctx: Twiml, menu: Menu, vr: VoiceResponse, view: twilio_acd.WaitView,
              lang: str, aht_s: float) -> Response:
    """civic311's queue: leave when the ACD says so (timeout, nobody logged in), else the
    place in line and estimated wait once (as menu_agi says them), then listen for a key."""
    if view.leave is not None:
        vr.leave()
        return Response(str(vr), mimetype="text/xml")
    if view.announce:
        wait_s = estimate_wait_s(view.ahead, view.ready, view.staffed, aht_s)
        say: tuple[e.Speech, ...] = (
            e.Text(f"{menu.text(lang, 'queue_position')} {view.ahead + 1}.", lang),)
        if wait_s:
            say += (e.Text(f"{menu.text(lang, 'queue_wait')} {wait_minutes(wait_s)} "
                           f"{menu.text(lang, 'queue_minutes')}", lang),)
            if twilio_jobs.configured(ctx.settings):
                say += (e.Text(callback.text(lang, "offer"), lang),)
        _say(ctx, vr, say, lang)
    vr.gather(action=f"/twilio/wait/key?lang={urlquote(lang)}", method="POST", input="dtmf",
              num_digits=1, timeout=view.pause_s)
    return Response(str(vr), mimetype="text/xml")


@_route("/wait/key", "POST")
@signed
def wait_key(ctx: Twiml) -> Response:
    """A key pressed while waiting (Asterisk's queue exit context): the caller leaves with it."""
    digits = "".join(ch for ch in request.form.get("Digits", "") if ch in "0123456789*#")
    vr = VoiceResponse()
    with ctx.db.session() as s:
        if digits and twilio_acd.press_key(s, request.form.get("CallSid", ""), digits[0]):
            vr.leave()
    return Response(str(vr), mimetype="text/xml")


def _acd_left(ctx: Twiml, s: Session, sid: str, result: str) -> Response | None:
    """The Enqueue action on civic311's queue: None when the ACD does not know the call."""
    now = utcnow()
    if not twilio_acd.entry_known(s, sid):
        return None
    ended = twilio_acd.left_queue(s, sid, result, now)
    vr = VoiceResponse()
    if ended is None or ended[0] is CallOutcome.ABANDONED:
        return Response(str(vr), mimetype="text/xml")  # dequeued to an agent, or gone
    menu = ctx.menu()
    row = s.scalar(select(IvrCall).where(IvrCall.uniqueid == sid))
    lang = (row.language if row else None) or menu.default_language
    outcome, key = ended
    if (outcome is CallOutcome.EXIT_KEY and key == callback.CALLBACK_KEY
            and twilio_jobs.configured(ctx.settings)):
        number = callback.dialable(request.form.get("From", ""))
        if callback.valid_number(number):
            queue = request.args.get("q", "") or menu.agent_queue
            s.commit()  # the exit is recorded before the booking relabels it ``callback``
            callback_store.book(ctx.db, sid, queue, number, callback.TWILIO_DIAL, lang, now)
            _say(ctx, vr, (e.Text(callback.text(lang, "booked"), lang),), lang)
            vr.hangup()
            return Response(str(vr), mimetype="text/xml")
    _say(ctx, vr, (e.Text(menu.text(lang, "goodbye"), lang),), lang)
    vr.hangup()
    return Response(str(vr), mimetype="text/xml")


@_route("/enqueued", "POST")
@signed
def enqueued(ctx: Twiml) -> Response:
    """Twilio's Enqueue action: the caller left the queue (bridged, hung up, ...)."""
    db = ctx.db
    sid = request.form.get("CallSid", "")
    queue = request.args.get("q", "")
    if twilio_acd.active(ctx.settings):
        with db.session() as s:
            answer = _acd_left(ctx, s, sid, request.form.get("QueueResult", ""))
            if answer is not None:
                return answer
    try:
        wait_s = float(request.form.get("QueueTime", "0"))
    except ValueError:
        abort(400)
    result = request.form.get("QueueResult", "")
    now = utcnow()
    with db.session() as s:
        ivr = s.scalar(select(IvrCall).where(IvrCall.uniqueid == sid))
        calls.left_queue(s, sid, queue, wait_s,
                         QUEUE_RESULT.get(result, CallOutcome.DROPPED), now, source="twilio",
                         caller_number=request.form.get("From"),
                         ivr_path=ivr.ivr_path if ivr else None,
                         ticket_number=ivr.ticket_number if ivr else None)
    return Response(str(VoiceResponse()), mimetype="text/xml")


@_route("/status", "POST")
@signed
def status(ctx: Twiml) -> Response:
    """Call status callback: a terminal status ends the IVR row and the call record."""
    db = ctx.db
    sid = request.form.get("CallSid", "")
    call_status = request.form.get("CallStatus", "")
    now = utcnow()
    with db.session() as s:
        if call_status in TERMINAL:
            if twilio_acd.active(ctx.settings):
                twilio_acd.caller_ended(s, sid, now, {q.name: q.wrapup_s
                                                      for q in ctx.settings.queues})
            ivr = s.scalar(select(IvrCall).where(IvrCall.uniqueid == sid))
            if ivr is not None and ivr.ended_at is None:
                ivr.ended_at = now
                if ivr.outcome is None:
                    ivr.outcome = "contained" if ivr.option else "hangup"
            calls.call_ended(s, sid, now)
    return Response("", status=204)


