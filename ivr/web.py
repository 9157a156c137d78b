"""IVR pages: supervisors post an emergency notice (heard by every new caller until it
expires, no Asterisk reload), see self-service containment per menu option, and hear the
messages residents left after hours."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.wrappers import Response

from foundation.auth import current_user, roles
from foundation.db import Database, utcnow
from foundation.settings import Settings
from foundation.users import Role
from foundation.web import Mount
from ivr import emergency_notices as notices
from ivr import voicemail
from ivr.analytics import containment
from ivr.models import IvrCall, active_notice
from telephony.install import Install, locate


def create_blueprints(settings: Settings, db: Database) -> list[Mount]:
    """The supervisors' IVR pages (endpoints ``ivr.*``)."""
    bp = Blueprint("ivr", __name__, template_folder="templates", url_prefix="/ivr")
    found: list[Install] = []

    def install() -> Install:
        """Where Asterisk keeps voicemail: located once, on the first message asked for."""
        if not found:
            found.append(locate(settings))
        return found[0]

    @bp.get("/notices")
    @roles(Role.SUPERVISOR)
    def notices_page() -> str:
        tz = ZoneInfo(settings.timezone)
        now = utcnow()
        with db.session() as s:
            active = active_notice(s, now)
            rows = [(n.id, n.text, n.created_by, n.created_at.astimezone(tz),
                     n.expires_at.astimezone(tz), n.withdrawn_at is None and n.expires_at > now,
                     n.audio_s) for n in notices.recent(s)]
            stats = containment(s, now - timedelta(days=1), now)
        return render_template("ivr/emergency_notices.html", rows=rows,
                               active_id=active.id if active else None,
                               stats=stats, max_chars=notices.MAX_CHARS,
                               max_recording_s=int(notices.MAX_RECORDING_S),
                               recording_types=notices.RECORDING_TYPES,
                               default_expiry=(now + timedelta(hours=4)).astimezone(tz)
                               .strftime("%Y-%m-%dT%H:%M"), tz=settings.timezone)


    @bp.post("/notices")
    @roles(Role.SUPERVISOR)
    def post_notice() -> Response:
        now = utcnow()
        try:
            expires = datetime.strptime(request.form.get("expires_at", ""),
                                        "%Y-%m-%dT%H:%M").replace(tzinfo=ZoneInfo(settings.timezone))
        except ValueError:
            flash("Give the expiry as a date and time.", "error")
            return redirect(url_for("ivr.notices_page"))
        user = current_user()
        upload = request.files.get("recording")
        try:
            recording = (notices.convert_recording(upload.read(), upload.filename)
                         if upload and upload.filename else None)
            with db.session() as s:
                notices.post(s, request.form.get("text", ""), expires,
                             user.username if user else "?", now, recording)
        except notices.NoticeError as exc:
            flash(str(exc), "error")
        else:
            flash("Notice posted: the next caller hears it first.", "ok")
        return redirect(url_for("ivr.notices_page"))


    @bp.get("/notices/<int:notice_id>.wav")
    @roles(Role.SUPERVISOR)
    def notice_recording(notice_id: int) -> Response:
        """The recording as callers hear it (8 kHz), for the supervisor to check."""
        return notices.recording_response(db, notice_id)


    @bp.post("/notices/<int:notice_id>/withdraw")
    @roles(Role.SUPERVISOR)
    def withdraw_notice(notice_id: int) -> Response:
        with db.session() as s:
            done = notices.withdraw(s, notice_id, utcnow())
        flash("Notice withdrawn." if done
              else "That notice was already withdrawn or never existed.",
              "ok" if done else "error")
        return redirect(url_for("ivr.notices_page"))


    @bp.get("/voicemail")
    @roles(Role.SUPERVISOR)
    def voicemail_page() -> str:
        """Messages left after hours, newest first, to be called back or turned into tickets;
        under each, who has heard it (the access audit)."""
        tz = ZoneInfo(settings.timezone)
        with db.session() as s:
            calls = voicemail.recent(s)
            heard = voicemail.by_call(voicemail.access_log(s, [c.id for c in calls]))
            rows = [(c.started_at.astimezone(tz), c.caller_number or "unknown", c.language or "",
                     c.voicemail_s, c.voicemail or "", c.source, c.id,
                     [(a.at.astimezone(tz), a.username, a.role, a.action, a.remote_addr)
                      for a in heard.get(c.id, [])]) for c in calls]
        return render_template("ivr/voicemail.html", rows=rows)

    @bp.get("/voicemail/access")
    @roles(Role.SUPERVISOR)
    def voicemail_access() -> str:
        """Every voicemail play, newest first (the audit, as recordings have theirs)."""
        tz = ZoneInfo(settings.timezone)
        with db.session() as s:
            rows = [(a.at.astimezone(tz), a.username, a.role, a.action, a.ivr_call_id,
                     a.remote_addr, a.byte_range) for a in voicemail.access_log(s)]
        return render_template("ivr/voicemail_access.html", rows=rows)

    def _audit(call: IvrCall, action: str) -> None:
        user = current_user()
        assert user is not None
        with db.session() as s:
            voicemail.audit(s, call, user.username, user.role, action, utcnow(),
                            request.remote_addr or "", request.headers.get("Range") or "")

    @bp.get("/voicemail/<name>")
    @roles(Role.SUPERVISOR)
    def voicemail_file(name: str) -> Response:
        """One message as recorded by Asterisk (range requests for the browser's player);
        every request is audited before a byte is sent."""
        path = voicemail.file_for(install(), name)
        with db.session() as s:
            call = voicemail.call_with_file(s, name)
        if path is None or call is None:
            abort(404)
        _audit(call, "play")
        response = send_file(path, mimetype="audio/wav", conditional=True, max_age=0)
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @bp.get("/voicemail/<int:call_id>/open")
    @roles(Role.SUPERVISOR)
    def voicemail_twilio(call_id: int) -> Response:
        """A message Twilio keeps: audited, then sent on to Twilio's recording."""
        with db.session() as s:
            call = s.get(IvrCall, call_id)
        if call is None or call.source != "twilio" or not call.voicemail:
            abort(404)
        _audit(call, "open")
        return redirect(call.voicemail)

    return [Mount(bp)]
