"""Transfers and referrals on the web: the agent's transfer page and JSON action (queued as
agent commands the daemon carries out through AMI, ``acd.agent_actions``), and the admins'
referral directory page. Agencies' public numbers are handed in (``agency_numbers``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for

from acd import calls, live_store, referrals
from acd.models import AgentCommand
from acd.states import CommandKind
from acd.transfer import TargetKind
from foundation.auth import current_user, roles
from foundation.db import Database
from foundation.settings import Settings
from foundation.users import Role
from foundation.web import Mount, id_value

KINDS = {"blind": CommandKind.BLIND_TRANSFER, "attended": CommandKind.ATTENDED_TRANSFER}
DESKTOP = "/agent/desktop"  # the desktop's forms post here with next=DESKTOP and come back


def back_to_desktop(form: Any) -> bool:
    """The form came from the agent desktop (a fixed path: never an open redirect)."""
    return bool(form.get("next") == DESKTOP)


def target_of(data: Any) -> tuple[str, str]:
    """(target, value): ``target`` and ``value``, or the desktop's one list ``to`` =
    ``"queue:citywide"`` (one <select> works without JavaScript)."""
    to = str(data.get("to") or "")
    if to:
        target, _, value = to.partition(":")
        return target, value.strip()
    return str(data.get("target") or ""), str(data.get("value") or "").strip()


def create_blueprints(settings: Settings, db: Database,
                      agency_numbers: referrals.AgencyNumbers | None = None) -> list[Mount]:
    bp = Blueprint("transfer", __name__, template_folder="templates")

    def ask(agent: str, data: Any) -> int:
        """Queue the transfer the form or JSON asks for; CommandError when it is not valid."""
        user = current_user()
        assert user is not None
        kind = KINDS.get(str(data.get("kind") or ""))
        raw, value = target_of(data)
        try:
            target = TargetKind(raw)
        except ValueError:
            target = None
        if kind is None or target is None:
            raise live_store.CommandError("kind: blind|attended; target: queue|agent|referral")
        with db.session() as s:
            if target is TargetKind.REFERRAL and value not in {
                    r.number for r in referrals.directory(s, agency_numbers)}:
                raise live_store.CommandError(f"{value!r} is not in the referral directory")
            return live_store.request_transfer(s, user.username, agent, kind, target, value,
                                               settings.queue_names(),
                                               settings.agent_extensions).id

    @bp.route("/api/v1/agents/<agent>/transfer", methods=["POST"])
    @roles(Role.AGENT, Role.SUPERVISOR)
    def transfer_api(agent: str) -> Any:
        """Transfer ``agent``'s caller: {"kind", "target", "value"}; agents only their own."""
        user = current_user()
        if user is None or (user.role == Role.AGENT.value and user.agent_ext != agent):
            return jsonify(error="forbidden", description="agents transfer only their calls"), 403
        try:
            cid = ask(agent, request.get_json(silent=True) or request.form)
        except live_store.CommandError as exc:
            return jsonify(error="bad_transfer", description=str(exc)), 400
        return jsonify(id=cid, status="pending"), 202

    @bp.route("/agent/transfer", methods=["GET", "POST"])
    @roles(Role.AGENT)
    def page() -> Any:
        user = current_user()
        ext = user.agent_ext if user else None
        if not ext:
            abort(403, description="your account has no phone extension")
        if request.method == "POST":
            desktop = back_to_desktop(request.form)
            try:
                cid = ask(ext, request.form)
            except live_store.CommandError as exc:
                flash(f"Transfer not queued: {exc}", "error")
                return redirect(DESKTOP if desktop else url_for("transfer.page")), 303
            if desktop:
                return redirect(f"{DESKTOP}?command={cid}#transfer"), 303
            return redirect(url_for("transfer.page", command=cid))
        with db.session() as s:
            call = calls.current_call(s, ext)
            directory = referrals.directory(s, agency_numbers)
            cmd = s.get(AgentCommand, id_value(request.args.get("command")) or 0)
            if cmd is not None and cmd.agent != ext:
                cmd = None
            return render_template("acd/transfer.html", call=call, directory=directory,
                                   queues=settings.queue_names(), command=cmd,
                                   agents=[a for a in settings.agent_extensions if a != ext])

    @bp.route("/admin/referrals", methods=["GET", "POST"])
    @roles(Role.ADMIN)
    def directory_page() -> Any:
        user = current_user()
        assert user is not None
        if request.method == "POST":
            with db.session() as s:
                if request.form.get("remove"):
                    referrals.remove(s, int(request.form["remove"]))
                    flash("Entry removed.", "ok")
                else:
                    try:
                        referrals.add(s, request.form.get("name", ""),
                                      request.form.get("number", ""),
                                      request.form.get("note", ""), user.username)
                        flash("Entry added.", "ok")
                    except referrals.ReferralError as exc:
                        s.rollback()
                        flash(str(exc), "error")
            return redirect(url_for("transfer.directory_page"))
        with db.session() as s:
            return render_template("acd/referrals.html",
                                   directory=referrals.directory(s, agency_numbers))

    return [Mount(bp)]
