"""The supervisor wallboard: a page, a server-sent-event stream, and agent commands.

One ``Hub`` per web process polls the live board's version (one integer) every 200 ms;
on a change it builds the wallboard payload once (the board plus today's figures per
queue) and wakes every open stream, so a hundred supervisors cost one query, not a hundred.
IVR self-service changes no board version (a contained call never reaches a queue), so the
hub also reads today's containment once a second and rebuilds the payload when it moved.
Each tile's figures follow the center's definitions (``acd.definitions``) and its alarm the
queue's goals (``acd.goals``): amber when one is missed today, red when missed by far.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request
from sqlalchemy.orm import Session

from acd import definitions, goals, live_store
from acd.facts import call_facts
from acd.live import queue_tiles
from acd.metrics import CallFacts, summarize
from acd.states import AgentState, CommandKind
from foundation.auth import current_user, roles
from foundation.db import Database, utcnow
from foundation.settings import Settings
from foundation.timeparse import city_today
from foundation.users import Role
from foundation.web import Mount

log = logging.getLogger(__name__)

POLL_S = 0.2
IVR_POLL_S = 1.0
KEEPALIVE_S = 15.0
IVR_TOP = 4  # menu options shown on the IVR tile, most calls first
IVR_LABELS = {"status": "Request status", "faq": "FAQs", "report": "Report a problem",
              "agent": "Asked for an agent", "after_hours": "After hours",
              "none": "No choice made"}


# IVR self-service figures over [t0, t1) (``ivr.analytics.containment``, passed in by the root:
# acd does not import ivr).
SelfService = Callable[[Session, datetime, datetime], dict[str, Any]]


class Hub:
    def __init__(self, settings: Settings, db: Database, self_service: SelfService) -> None:
        self.self_service = self_service
        self.settings, self.db = settings, db
        self.version = -1
        self.seq = 0  # grows with every new payload (board or IVR change): what streams follow
        self.payload = ""
        self._ivr: dict[str, Any] | None = None
        self._ivr_read = 0.0  # time.monotonic() of the last containment read
        self._down: frozenset[str] = frozenset()  # nodes left off the board (live_store)
        self.changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.watchers = 0

    def start(self) -> None:
        """Poll while at least one stream is open (the thread ends with the last one)."""
        with self._lock:
            self.watchers += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="civic311-wallboard",
                                                daemon=True)
                self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self.watchers -= 1

    def _run(self) -> None:
        while True:
            time.sleep(POLL_S)
            with self._lock:
                if self.watchers <= 0:
                    self._thread = None
                    return
            try:
                self.refresh()
            except Exception:  # the database restarting: keep serving the last payload
                log.warning("wallboard refresh failed; retrying", exc_info=True)

    def refresh(self, force: bool = False) -> None:
        with self.db.session() as s:
            version = live_store.board_version(s)
            down = live_store.nodes_down(s)  # a node going silent leaves the board
            ivr = self._ivr
            if force or version != self.version or time.monotonic() - self._ivr_read >= IVR_POLL_S:
                ivr = self._ivr_today(s)
            if version == self.version and ivr == self._ivr and down == self._down and not force:
                return
            version, doc = live_store.board(s)
            today = self._today(s)
        payload = json.dumps(build_payload(self.settings, doc, today, ivr))
        with self.changed:
            # Streams opening together refresh concurrently: an identical payload is no
            # news, and one built from an older board must not replace a newer one.
            if version < self.version:
                return
            self.version, self._ivr, self._down = version, ivr, down
            if payload == self.payload:
                return
            self.payload = payload
            self.seq += 1
            self.changed.notify_all()

    def _ivr_today(self, s: Any) -> dict[str, Any]:
        self._ivr_read = time.monotonic()
        return self.self_service(s, *city_today(self.settings.timezone, utcnow()))

    def _today(self, s: Any) -> dict[str, Any]:
        start, end = city_today(self.settings.timezone, utcnow())
        by_queue: dict[str, list[CallFacts]] = {}
        for f in call_facts(s, start, end):
            by_queue.setdefault(f.queue, []).append(f)
        return {q: summarize(facts, self.settings.sl_thresholds_s, self.settings.short_abandon_s)
                for q, facts in by_queue.items()}

    def stream(self) -> Iterator[str]:
        """Server-sent events: the payload now, then on every change (keep-alive otherwise)."""
        self.start()
        try:
            if not self.payload:
                self.refresh()
            sent = -1
            while True:
                with self.changed:
                    if self.seq == sent:
                        self.changed.wait(KEEPALIVE_S)
                    seq, payload = self.seq, self.payload
                if seq == sent:
                    yield ": keep-alive\n\n"
                    continue
                sent = seq
                now = json.dumps(utcnow().isoformat())  # the browser's clock skew, per message
                yield (f'id: {seq}\nevent: board\n'
                       f'data: {{"now": {now}, "board": {payload}}}\n\n')
        finally:  # the client went away (the server closes the generator)
            self.stop()


def ivr_tile(stats: dict[str, Any] | None, top: int = IVR_TOP) -> dict[str, Any]:
    """Today's IVR self-service, compact: totals and the ``top`` options by calls.

    ``stats`` is ``ivr.analytics.containment``; containment there is contained / (contained
    + reached an agent), a 0-1 ratio (None when no call got that far).
    """
    stats = stats or {"options": {}, "total": {}}
    total = stats["total"]
    ranked = sorted(((name, row) for name, row in stats["options"].items() if row["calls"]),
                    key=lambda kv: (-kv[1]["calls"], kv[0]))
    return {
        "calls": total.get("calls", 0), "contained": total.get("contained", 0),
        "agent": total.get("agent", 0), "containment": total.get("containment"),
        "options": [{"option": name, "label": IVR_LABELS.get(name, name), "calls": row["calls"],
                     "contained": row["contained"], "agent": row["agent"],
                     "containment": row["containment"]} for name, row in ranked[:top]],
        "more_options": max(0, len(ranked) - top),
    }


def build_payload(settings: Settings, doc: dict[str, Any], today: dict[str, Any],
                  ivr: dict[str, Any] | None = None) -> dict[str, Any]:
    """The wallboard's JSON: per queue tile today's figures by the center's definitions, its
    goals (met / missed) and ``goal_alarm`` (0 ok, 1 amber: a goal missed, 2 red)."""
    d = definitions.from_settings(settings)
    titles = {q.name: q.title for q in settings.queues}
    tiles = queue_tiles(doc, today, settings.queue_names(), d)
    for t in tiles:
        t["title"] = titles.get(t["queue"], t["queue"])
        g = goals.goals_for(settings, t["queue"])
        s = today.get(t["queue"]) or summarize([], d.thresholds_s, d.short_abandon_s)
        t["goals"] = goals.marks(s, d, g)
        t["goal_alarm"] = goals.alarm_level(s, d, g, settings.alarm_sl_red_points,
                                            settings.alarm_red_over_goal)
    return {
        "version": doc.get("version", 0),
        "tiles": tiles,
        "agents": doc.get("agents", []),
        "nodes": doc.get("nodes", []),  # with several telephony nodes: which are up
        "ivr": ivr_tile(ivr),
        "definitions": d.as_dict(),
        "thresholds": {
            "waiting": settings.alarm_waiting, "longest_wait_s": settings.alarm_longest_wait_s,
            "paused_s": settings.alarm_paused_s,
        },
    }


def create_blueprints(settings: Settings, db: Database, self_service: SelfService) -> list[Mount]:
    """The wallboard, agent console and agent commands, bound to ``settings`` and ``db``."""
    bp = Blueprint("wallboard", __name__, template_folder="templates")
    hub = Hub(settings, db, self_service)  # one per app: it polls while a stream is open

    @bp.route("/wallboard")
    @roles(Role.SUPERVISOR, Role.MANAGER)
    def page() -> Any:
        user = current_user()
        can_command = user is not None and user.role in ("supervisor", "admin")
        return render_template("acd/wallboard.html", settings=settings, user=user,
                               can_command=can_command,
                               definitions=definitions.from_settings(settings).as_dict())

    @bp.route("/wallboard/stream")
    @roles(Role.SUPERVISOR, Role.MANAGER)
    def stream() -> Response:
        return Response(hub.stream(), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @bp.route("/api/v1/wallboard")
    @roles(Role.SUPERVISOR, Role.MANAGER)
    def snapshot() -> Any:
        hub.refresh(force=not hub.watchers)  # no stream open: nothing keeps it fresh
        return Response(hub.payload, mimetype="application/json")

    @bp.route("/api/v1/agents/<agent>/commands", methods=["POST"])
    @roles(Role.SUPERVISOR, Role.AGENT)
    def command(agent: str) -> Any:
        """Log in/out, pause/unpause an agent. Agents may only command themselves."""
        user = current_user()
        assert user is not None
        if user.role == Role.AGENT.value and user.agent_ext != agent:
            return jsonify(error="forbidden",
                           description="agents may only change their own state"), 403
        data: Any = request.get_json(silent=True) if request.is_json else request.form
        if not hasattr(data, "get"):
            return jsonify(error="bad_command", description="send a JSON object"), 400
        reason = str(data.get("reason") or "")
        pausing = data.get("action") == CommandKind.PAUSE
        if pausing and reason and reason not in settings.pause_reasons:
            return jsonify(error="bad_command",
                           description=f"pause reason must be one of {settings.pause_reasons}"), 400
        try:
            with db.session() as s:
                cmd = live_store.request_command(
                    s, user.username, str(data.get("action") or ""), agent,
                    str(data.get("queue") or "") or None, reason, settings.queue_names())
                cid = cmd.id
        except live_store.CommandError as exc:
            return jsonify(error="bad_command", description=str(exc)), 400
        return jsonify(id=cid, status="pending"), 202

    @bp.route("/api/v1/agents/commands/<int:command_id>")
    @roles(Role.SUPERVISOR, Role.AGENT)
    def command_status(command_id: int) -> Any:
        from acd.models import AgentCommand

        user = current_user()
        with db.session() as s:
            c = s.get(AgentCommand, command_id)
            if c is None or (user is not None and user.role == Role.AGENT.value
                             and c.agent != user.agent_ext):
                return jsonify(error="not_found"), 404
            return jsonify(id=c.id, action=c.action, agent=c.agent, queue=c.queue,
                           status=c.status, detail=c.detail)

    @bp.route("/agent/console")
    @roles(Role.AGENT, Role.SUPERVISOR)
    def agent_console() -> Any:
        """The agent's own queue controls: log in/out per queue, pause with a reason."""
        user = current_user()
        return render_template("acd/agent.html", settings=settings, user=user,
                               ext=(user.agent_ext if user else None) or "")

    @bp.route("/api/v1/agents/me")
    @roles(Role.AGENT)
    def agent_me() -> Any:
        user = current_user()
        with db.session() as s:
            _, doc = live_store.board(s)
        me = next((a for a in doc.get("agents", []) if user and a["agent"] == user.agent_ext), None)
        return jsonify(agent=user.agent_ext if user else None, now=utcnow().isoformat(),
                       state=me or {"state": AgentState.LOGGED_OUT, "queues": [], "paused_in": [],
                                    "pause_reason": {}, "since": None, "reason": ""})

    return [Mount(bp)]
