"""Recordings web surface: list, play (HTTP range requests), download, legal hold, missing and
failed recordings, per-queue policy (admin), and live monitoring (supervisor).

Only supervisors and QA staff (and admins, who may reach every page) see recordings; every
play and download request is written to the access log before a byte is sent.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import select

from foundation.auth import current_user, roles
from foundation.db import Database, utcnow
from foundation.settings import Settings
from foundation.users import Role
from foundation.web import Mount, local_time
from recordings import ami, policy_queries, queries
from recordings.asterisk_sync import push_to_asterisk
from recordings.catalog import orphans, paths_for
from recordings.models import AUDIT_LEN, STATUSES, AccessAction, Recording, RecordingAccess
from recordings.monitor import MODES, MonitorError, spy, validate
from recordings.policy import MODES as POLICY_MODES
from recordings.policy import PolicyError, parse_form
from telephony.ami import AmiError

log = logging.getLogger(__name__)

LISTENERS = (Role.SUPERVISOR, Role.QA)
MIN_HOLD_REASON = 5  # characters


def create_blueprints(settings: Settings, db: Database) -> list[Mount]:
    """The blueprint, its views closing over the settings and database passed in."""
    bp = Blueprint("recordings", __name__, template_folder="templates")
    local = local_time(settings.timezone)
    paths = functools.cache(lambda: paths_for(settings))  # locate() once, on first use

    @bp.route("/recordings")
    @roles(*LISTENERS)
    def index() -> Any:
        try:
            query = queries.filtered(request.args, settings.timezone)
        except queries.BadFilter as exc:
            flash(str(exc), "error")
            return redirect(url_for("recordings.index"))
        with db.session() as s:
            rows = list(s.scalars(query))
            problems = queries.problem_count(s)
        return render_template("recordings/list.html", rows=rows, local=local, problems=problems,
                               queues=settings.queue_names(), statuses=STATUSES, args=request.args)

    @bp.route("/api/v1/recordings")
    @roles(*LISTENERS)
    def api_list() -> Any:
        try:
            query = queries.filtered(request.args, settings.timezone)
        except queries.BadFilter as exc:
            return jsonify(error="bad_filter", description=str(exc)), 400
        with db.session() as s:
            return jsonify(recordings=[queries.as_dict(r) for r in s.scalars(query)])

    @bp.route("/recordings/problems")
    @roles(*LISTENERS)
    def problems() -> Any:
        try:
            query = queries.problems(request.args, settings.timezone)
        except queries.BadFilter as exc:
            abort(400, description=str(exc))
        with db.session() as s:
            rows = list(s.scalars(query))
            strays = orphans(s, paths(), utcnow())
        return render_template("recordings/problems.html", rows=rows, local=local, strays=strays)

    @bp.route("/api/v1/recordings/problems")
    @roles(*LISTENERS)
    def api_problems() -> Any:
        try:
            query = queries.problems(request.args, settings.timezone)
        except queries.BadFilter as exc:
            return jsonify(error="bad_filter", description=str(exc)), 400
        with db.session() as s:
            rows = s.scalars(query)
            return jsonify(problems=[queries.as_dict(r) for r in rows])

    @bp.route("/recordings/<int:rid>")
    @roles(*LISTENERS)
    def detail(rid: int) -> Any:
        with db.session() as s:
            rec = s.get(Recording, rid)
            if rec is None:
                abort(404)
            log_rows = list(s.scalars(select(RecordingAccess)
                                      .where(RecordingAccess.recording_id == rid)
                                      .order_by(RecordingAccess.id.desc()).limit(100)))
        return render_template("recordings/detail.html", rec=rec, access=log_rows, local=local)

    def _file(rec: Recording) -> Path:
        if rec.path is None or rec.deleted_at is not None:
            abort(410 if rec.deleted_at else 404)
        base = settings.data_dir.resolve()
        path = (base / rec.path).resolve()
        if not path.is_relative_to(base) or not path.is_file():
            abort(404)
        return path

    def _audited(rid: int, action: str, as_attachment: bool) -> Any:
        user = current_user()
        assert user is not None
        with db.session() as s:
            rec = s.get(Recording, rid)
            if rec is None:
                abort(404)
            path = _file(rec)
            s.add(RecordingAccess(recording_id=rid, username=user.username, role=user.role,
                                  action=action, at=utcnow(),
                                  remote_addr=(request.remote_addr or "")[:AUDIT_LEN],
                                  byte_range=(request.headers.get("Range") or "")[:AUDIT_LEN]))
            name = f"{rec.uniqueid}.wav"
        response = send_file(path, mimetype="audio/wav", as_attachment=as_attachment,
                             download_name=name, conditional=True, max_age=0)
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @bp.route("/recordings/<int:rid>/audio")
    @roles(*LISTENERS)
    def audio(rid: int) -> Any:
        """The player's source: answers Range requests (206); every request is audited."""
        return _audited(rid, "play", as_attachment=False)

    @bp.route("/recordings/<int:rid>/download")
    @roles(*LISTENERS)
    def download(rid: int) -> Any:
        return _audited(rid, "download", as_attachment=True)

    @bp.route("/recordings/<int:rid>/hold", methods=["POST"])
    @roles(Role.SUPERVISOR)
    def hold(rid: int) -> Any:
        """Place or lift a legal hold: a held recording is never deleted by retention."""
        user = current_user()
        assert user is not None
        action = request.form.get("action", "")
        reason = (request.form.get("reason") or "").strip()
        if action not in (AccessAction.HOLD, AccessAction.RELEASE):
            flash("Choose to place or to lift the hold.", "error")
            return redirect(url_for("recordings.detail", rid=rid))
        if action == AccessAction.HOLD and len(reason) < MIN_HOLD_REASON:
            flash("A legal hold needs a reason (at least 5 characters).", "error")
            return redirect(url_for("recordings.detail", rid=rid))
        with db.session() as s:
            rec = s.get(Recording, rid)
            if rec is None:
                abort(404)
            if rec.deleted_at is not None:
                flash("This recording was already deleted by retention.", "error")
                return redirect(url_for("recordings.detail", rid=rid))
            rec.legal_hold = action == AccessAction.HOLD
            rec.hold_reason = reason if rec.legal_hold else ""
            s.add(RecordingAccess(recording_id=rid, username=user.username, role=user.role,
                                  action=action, at=utcnow(),
                                  remote_addr=(request.remote_addr or "")[:AUDIT_LEN],
                                  reason=reason))
        flash("Legal hold placed." if action == AccessAction.HOLD else "Legal hold lifted.", "ok")
        return redirect(url_for("recordings.detail", rid=rid))

    # ---- per-queue policy (admin) ------------------------------------------------------------
    @bp.route("/recordings/policies", methods=["GET", "POST"])
    @roles()
    def policies() -> Any:
        if request.method == "POST":
            queue = request.form.get("queue", "")
            if queue not in settings.queue_names():
                flash(f"Unknown queue {queue!r}.", "error")
                return redirect(url_for("recordings.policies"))
            try:
                policy = parse_form(queue, request.form)
            except PolicyError as exc:
                flash(f"{queue}: {exc}", "error")
                return redirect(url_for("recordings.policies"))
            user = current_user()
            with db.session() as s:
                policy_queries.save(s, policy, user.username if user else "")
            try:
                push_to_asterisk(settings, db)
                flash(f"{queue}: saved and applied in Asterisk.", "ok")
            except (AmiError, OSError) as exc:
                flash(f"{queue}: saved; Asterisk could not be told now ({exc}); the worker "
                      "applies it within a minute.", "error")
            return redirect(url_for("recordings.policies"))
        with db.session() as s:
            current = policy_queries.load(s, settings.queue_names())
        return render_template("recordings/policies.html", policies=current, modes=POLICY_MODES)

    # ---- live monitoring (supervisor) --------------------------------------------------------
    @bp.route("/recordings/monitor")
    @roles(Role.SUPERVISOR)
    def monitor_page() -> Any:
        user = current_user()
        return render_template("recordings/monitor.html", agents=settings.agent_extensions,
                               modes=list(MODES), phone=(user.agent_ext if user else None) or "")

    @bp.route("/recordings/monitor", methods=["POST"])
    @roles(Role.SUPERVISOR)
    def monitor() -> Any:
        """Ring the supervisor's phone and spy on the agent (listen, whisper or barge)."""
        data = request.get_json(silent=True) or request.form
        wants_json = request.is_json or request.accept_mimetypes.best == "application/json"
        phone, agent, mode = (str(data.get(k) or "") for k in ("phone", "agent", "mode"))
        try:
            validate(phone, agent, mode, settings.agent_extensions)
            started = ami.run(settings, lambda b: spy(b, phone, agent, mode,
                                                      known=settings.agent_extensions))
        except MonitorError as exc:
            if wants_json:
                return jsonify(error="bad_monitor_request", description=str(exc)), 400
            flash(str(exc), "error")
            return redirect(url_for("recordings.monitor_page"))
        except (AmiError, OSError) as exc:
            if wants_json:
                return jsonify(error="asterisk_unavailable", description=str(exc)), 503
            flash(f"Asterisk is not reachable: {exc}", "error")
            return redirect(url_for("recordings.monitor_page"))
        log.info("%s started %s on agent %s from phone %s", current_user().username,  # type: ignore[union-attr]
                 mode, agent, phone)
        if wants_json:
            return jsonify(mode=mode, supervisor_channel=started.supervisor_channel,
                           agent_channel=started.agent_channel, options=started.options)
        flash(f"{mode.title()} on agent {agent}: your phone {phone} is connected.", "ok")
        return redirect(url_for("recordings.monitor_page"))

    return [Mount(bp)]
