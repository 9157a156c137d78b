"""The REST resources of the simulated Twilio account, below ``/2010-04-01/Accounts/<sid>/``:

- ``POST Queues/QU.../Members/CA....json`` (``Url``, ``Method``): dequeue a caller to a URL
  (200; 404 as Twilio answers when the call is not in that queue);
- ``POST Calls/CA....json`` (``Url`` or ``Status=completed``): redirect or hang up a call
  (400 with Twilio's error 21220 when it is not in progress); ``GET`` it: its status,
  start and end;
- ``POST Calls.json`` (``To``, ``From``, ``Url``, ``StatusCallback``): call a resident
  back (201); the scenario's caller with that number answers and runs the ``Url``'s TwiML;
- ``GET Queues.json`` and ``GET Queues/QU.../Members.json``: who waits where, paged as
  Twilio pages its lists (``PageSize``, ``Page``, ``next_page_uri``);
- ``GET Recordings/RE....wav`` (a Dial's two channels, a Conference's one) and ``DELETE
  Recordings/RE....json``;
- ``POST Conferences/CF.../Participants/CA....json`` (``Hold``, ``HoldUrl``,
  ``EndConferenceOnExit``), ``DELETE`` it (the participant leaves), ``POST
  Conferences/CF.../Participants.json`` (``From``, ``To``, ``Timeout``, ``StatusCallback``:
  201), ``POST Conferences/CF....json`` (``Status=completed``); a friendly name in place of
  the CF sid works too; 404 when no such room or participant (``rooms.py``).

HTTP basic auth with the account SID and auth token (or an API key given to ``RestApp``).
``fail_next`` makes the next requests fail with the given statuses (a REST failure)."""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from telephony.twilio_sim.cloud import Sim

MEMBER = re.compile(r"Queues/(QU\w+)/Members/(CA[\w-]+)\.json")
MEMBERS = re.compile(r"Queues/(QU\w+)/Members\.json")
CALL = re.compile(r"Calls/(CA[\w-]+)\.json")
RECORDING = re.compile(r"Recordings/(RE\w+)\.(wav|json)")
PARTICIPANT = re.compile(r"Conferences/([\w-]+)/Participants/(CA[\w-]+)\.json")
PARTICIPANTS = re.compile(r"Conferences/([\w-]+)/Participants\.json")
CONFERENCE = re.compile(r"Conferences/([\w-]+)\.json")
MAX_WAV_S = 120  # a simulated recording's audio is silence, at most this long


class RestApp:
    def __init__(self, sim: Sim, api_keys: dict[str, str] | None = None) -> None:
        self.sim = sim
        self.credentials = {sim.account_sid: sim.auth_token, **(api_keys or {})}
        self.requests: list[dict[str, Any]] = []
        self.failures: list[int] = []
        self.lock = threading.Lock()

    def fail_next(self, *statuses: int) -> None:
        with self.lock:
            self.failures.extend(statuses)

    def handled(self, kind: str) -> list[dict[str, Any]]:
        """The requests of ``kind`` (dequeue, redirect, call, queues, members, recording,
        delete, participant, participant-create, participant-delete, conference) answered
        with success."""
        with self.lock:
            return [r for r in self.requests if r["kind"] == kind and r["status"] < 300]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._app(Request(environ))(environ, start_response)

    def _app(self, request: Request) -> Response:
        user, _, secret = base64.b64decode(request.headers.get("Authorization", "")
                                           .removeprefix("Basic ") or b"").decode(
            errors="replace").partition(":")
        if not user or self.credentials.get(user) != secret:
            return _error(401, 20003, "Authenticate")
        prefix = f"/2010-04-01/Accounts/{self.sim.account_sid}/"
        if not request.path.startswith(prefix):
            return _error(404, 20404, "The requested resource was not found")
        path = request.path[len(prefix):]
        with self.lock:  # a failed request changes nothing
            failure = self.failures.pop(0) if self.failures else 0
        if failure:
            kind, resp = _kind(request, path), _error(failure, 20500, "Internal Server Error")
        else:
            kind, resp = self._route(request, path)
        with self.lock:
            self.requests.append({"kind": kind, "path": request.path, "method": request.method,
                                  "form": request.form.to_dict(), "status": resp.status_code})
        return resp

    def _route(self, request: Request, path: str) -> tuple[str, Response]:
        sim, form, post = self.sim, request.form, request.method == "POST"
        if m := MEMBER.fullmatch(path):
            if post:
                qsid, sid = m.groups()
                if sim.dequeue(qsid, sid, form.get("Url", ""), form.get("Method", "POST")):
                    return "dequeue", _json({"call_sid": sid, "queue_sid": qsid,
                                             "position": 1, "wait_time": 0})
                return "dequeue", _error(404, 20404, "The requested resource was not found")
            return "dequeue", _json({})
        if path == "Calls.json" and post:
            sid = sim.place(form.get("To", ""), form.get("From", ""), form.get("Url", ""),
                            form.get("StatusCallback", ""))
            resp = _json({"sid": sid, "status": "queued", "to": form.get("To", ""),
                          "direction": "outbound-api"})
            resp.status_code = 201
            return "place", resp
        if m := CALL.fullmatch(path):
            sid = m.group(1)
            if post:
                status = form.get("Status", "")
                if not sim.redirect(sid, form.get("Url", ""), status):
                    return "redirect", _error(400, 21220,
                                              "Call is not in-progress. Cannot redirect.")
            call = sim.call_resource(sid)
            if call is None and post:  # an agent's leg (the Dial's child call)
                call = {"sid": sid, "status": "in-progress", "direction": "outbound-dial"}
            kind = "redirect" if post else "call"
            return kind, _json(call) if call else _error(404, 20404, "not found")
        if m := PARTICIPANT.fullmatch(path):
            conf, sid = m.groups()
            if request.method == "DELETE":
                return "participant-delete", (Response(status=204)
                                              if sim.participant_delete(conf, sid)
                                              else _error(404, 20404, "not found"))
            got = sim.participant_update(conf, sid, form.to_dict())
            return "participant", _json(got) if got else _error(404, 20404, "not found")
        if (m := PARTICIPANTS.fullmatch(path)) and post:
            made = sim.participant_create(m.group(1), form.to_dict())
            if made is None:
                return "participant-create", _error(404, 20404, "not found")
            resp = _json(made)
            resp.status_code = 201
            return "participant-create", resp
        if (m := CONFERENCE.fullmatch(path)) and post:
            conf = sim.conference_update(m.group(1), form.get("Status", ""))
            return "conference", _json(conf) if conf else _error(404, 20404, "not found")
        if path == "Queues.json":
            with sim.lock:
                queues = [{"sid": qsid, "friendly_name": name,
                           "current_size": len(sim.members.get(qsid, [])),
                           "max_size": 1000} for name, qsid in sim.queues.items()]
            return "queues", _json(_page(request, "queues", queues))
        if m := MEMBERS.fullmatch(path):
            members = sim.queue_members(m.group(1))
            return "members", (_json(_page(request, "queue_members", members))
                               if members is not None else _error(404, 20404, "not found"))
        if m := RECORDING.fullmatch(path):
            sid, ext = m.groups()
            if request.method == "DELETE" and ext == "json":
                with sim.lock:
                    gone = sim.recordings.pop(sid, None)
                return "delete", Response(status=204) if gone else _error(404, 20404,
                                                                          "not found")
            with sim.lock:
                rec = sim.recordings.get(sid)
            if rec is None:
                return "recording", _error(404, 20404, "not found")
            return "recording", Response(_silence(min(rec[1], MAX_WAV_S), rec[2]),
                                         content_type="audio/x-wav")
        return "unknown", _error(404, 20404, "The requested resource was not found")


def _kind(request: Request, path: str) -> str:
    if path == "Calls.json":
        return "place"
    if MEMBER.fullmatch(path):
        return "dequeue"
    if CALL.fullmatch(path):
        return "redirect" if request.method == "POST" else "call"
    if m := RECORDING.fullmatch(path):
        return "delete" if m.group(2) == "json" else "recording"
    if PARTICIPANT.fullmatch(path):
        return "participant-delete" if request.method == "DELETE" else "participant"
    if PARTICIPANTS.fullmatch(path):
        return "participant-create"
    if CONFERENCE.fullmatch(path):
        return "conference"
    return "queues" if path == "Queues.json" else "members" if MEMBERS.fullmatch(path) \
        else "unknown"


def _page(request: Request, key: str, items: list[Any]) -> dict[str, Any]:
    """One page of a list resource as Twilio pages it: ``PageSize`` (default 50, at most
    1000) and ``Page`` from 0; ``next_page_uri`` names the next page, null on the last."""
    try:
        size = max(1, min(int(request.args.get("PageSize", 50)), 1000))
        page = max(0, int(request.args.get("Page", 0)))
    except ValueError:
        size, page = 50, 0
    start = page * size
    more = len(items) > start + size
    return {key: items[start:start + size], "page": page, "page_size": size,
            "next_page_uri": f"{request.path}?PageSize={size}&Page={page + 1}" if more
            else None}


def _silence(seconds: float, channels: int = 2) -> bytes:
    """8 kHz 16-bit audio of ``seconds``: two channels (a Dial's dual-channel recording) or
    one (a Conference's: Twilio mixes a conference into one channel)."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * channels * int(8000 * max(seconds, 0.1)))
    return buf.getvalue()


def _json(body: Any) -> Response:
    return Response(json.dumps(body), content_type="application/json")


def _error(status: int, code: int, message: str) -> Response:
    return Response(json.dumps({"code": code, "message": message, "status": status}),
                    status=status, content_type="application/json")


@contextmanager
def serve(app: RestApp, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve the REST API in a thread; yields its base URL (``twilio_api_base``)."""
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="twilio-sim-rest",
                              daemon=True)
    thread.start()
    base = f"http://{host}:{server.server_port}"
    app.sim.api_base = base
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
