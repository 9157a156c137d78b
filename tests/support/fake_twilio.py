"""A fake of Twilio's cloud at the HTTP boundary, for the Twilio ACD tests.

``FakeTwilioRest`` is a real HTTP server (port 0) answering the REST resources civic311
calls: a Queue Member's dequeue (``POST .../Queues/QU../Members/CA...json``: 200 when the
call is in that queue, 404 as Twilio answers otherwise), a Call's redirect (``POST
.../Calls/CA...json``), a recording's media (``GET .../Recordings/RE...wav``) and its
deletion (``DELETE .../Recordings/RE...json``: 204, and the media is gone; 404 when Twilio
holds no such recording), a conference participant's update (``POST
.../Conferences/CF../Participants/CA...json``: ``participant``), removal (``DELETE`` it:
``participant-delete``, 204) and creation (``POST .../Participants.json``:
``participant-create``, 201), answered without any state of the room. It checks HTTP basic
auth, records every request, fails the next N requests on demand (``fail_next``), and
answers one recording's requests with a fixed error
for ever (``refuse``: a poison item). ``Twilio`` plays Twilio's side towards civic311's
webhooks, every request signed with twilio's own ``RequestValidator`` scheme; ``Texter`` a
resident's phone texting the 311 number (the Messaging webhook).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import unescape
from typing import Any

from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator
from werkzeug.wrappers import Request, Response

from tests.support.fake_remote import serve

MEMBER = re.compile(r"/2010-04-01/Accounts/(AC\w+)/Queues/(QU\w+)/Members/(CA[\w-]+)\.json")
CALL = re.compile(r"/2010-04-01/Accounts/(AC\w+)/Calls/(CA[\w-]+)\.json")
RECORDING = re.compile(r"/2010-04-01/Accounts/(AC\w+)/Recordings/(RE\w+)\.wav")
RECORDING_RESOURCE = re.compile(r"/2010-04-01/Accounts/(AC\w+)/Recordings/(RE\w+)\.json")
PARTICIPANT = re.compile(r"/2010-04-01/Accounts/(AC\w+)/Conferences/(CF\w+)/Participants"
                         r"(?:/(CA[\w-]+))?\.json")


@dataclass
class FakeTwilioRest:
    account_sid: str
    auth_token: str
    queues: dict[str, str] = field(default_factory=dict)  # queue name -> QU sid
    members: dict[str, list[str]] = field(default_factory=dict)  # QU sid -> CallSids in line
    recordings: dict[str, bytes] = field(default_factory=dict)  # RE sid -> WAV bytes
    requests: list[dict[str, Any]] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)  # statuses to answer next, in order
    refused: dict[str, int] = field(default_factory=dict)  # RE sid -> status, every time
    lock: threading.Lock = field(default_factory=threading.Lock)

    def queue_sid(self, name: str) -> str:
        with self.lock:
            sid = self.queues.setdefault(name, f"QU{len(self.queues) + 1:032d}")
            self.members.setdefault(sid, [])
            return sid

    def fail_next(self, *statuses: int) -> None:
        with self.lock:
            self.failures.extend(statuses)

    def refuse(self, recording_sid: str, status: int) -> None:
        with self.lock:
            self.refused[recording_sid] = status

    def handled(self, kind: str) -> list[dict[str, Any]]:
        """The requests of ``kind`` (dequeue, redirect, delete, participant,
        participant-create, participant-delete) it answered with success."""
        with self.lock:
            return [r for r in self.requests if r["kind"] == kind and r["status"] < 300]

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._app(environ, start_response)

    @Request.application  # type: ignore[misc]
    def _app(self, request: Request) -> Response:
        auth = base64.b64decode(request.headers.get("Authorization", "").removeprefix(
            "Basic ") or b"").decode(errors="replace")
        if auth != f"{self.account_sid}:{self.auth_token}":
            return _error(401, 20003, "Authenticate")
        if party := PARTICIPANT.fullmatch(request.path):
            return self._participant(request, party)
        member, call = MEMBER.fullmatch(request.path), CALL.fullmatch(request.path)
        recording = RECORDING.fullmatch(request.path)
        resource = RECORDING_RESOURCE.fullmatch(request.path)
        kind = ("dequeue" if member else "redirect" if call else
                "recording" if recording else
                "delete" if resource and request.method == "DELETE" else "unknown")
        with self.lock:
            status = self.failures.pop(0) if self.failures else 0
            sid = (recording or resource).group(2) if recording or resource else ""
            status = self.refused.get(sid, status)
            entry = {"kind": kind, "path": request.path, "form": request.form.to_dict(),
                     "status": status or 200, "sid": sid}
            self.requests.append(entry)
            if status:
                return _error(status, 20500, "Internal Server Error")
            if kind == "delete":
                if self.recordings.pop(sid, None) is None:
                    entry["status"] = 404
                    return _error(404, 20404, "The requested resource was not found")
                entry["status"] = 204
                return Response(status=204)
            if recording and request.method == "GET" and recording.group(2) in self.recordings:
                return Response(self.recordings[recording.group(2)], content_type="audio/x-wav")
            if request.method != "POST" or kind in ("unknown", "recording"):
                entry["status"] = 404
                return _error(404, 20404, "The requested resource was not found")
            if member:
                _, qsid, csid = member.groups()
                line = self.members.get(qsid, [])
                if csid not in line:
                    entry["status"] = 404
                    return _error(404, 20404, "The requested resource was not found")
                line.remove(csid)
                return Response(json.dumps({"call_sid": csid, "queue_sid": qsid,
                                            "position": 1, "wait_time": 0}),
                                content_type="application/json")
            assert call is not None
            return Response(json.dumps({"sid": call.group(2), "status": "in-progress"}),
                            content_type="application/json")


    def _participant(self, request: Request, party: re.Match[str]) -> Response:
        conf, sid = party.group(2), party.group(3)
        kind = ("participant-create" if sid is None else
                "participant-delete" if request.method == "DELETE" else "participant")
        status = {"participant-create": 201, "participant-delete": 204}.get(kind, 200)
        with self.lock:
            failure = self.failures.pop(0) if self.failures else 0
            self.requests.append({"kind": kind, "path": request.path, "status": failure or status,
                                  "form": request.form.to_dict(), "sid": sid or ""})
        if failure:
            return _error(failure, 20500, "Internal Server Error")
        if kind == "participant-delete":
            return Response(status=204)
        body = {"conference_sid": conf, "call_sid": sid or f"CA{uuid.uuid4().hex}",
                "hold": request.form.get("Hold") == "true"}
        return Response(json.dumps(body), status=status, content_type="application/json")


def _error(status: int, code: int, message: str) -> Response:
    return Response(json.dumps({"code": code, "message": message, "status": status}),
                    status=status, content_type="application/json")


@contextmanager
def fake_twilio_rest(account_sid: str, auth_token: str) -> Iterator[tuple[str, FakeTwilioRest]]:
    fake = FakeTwilioRest(account_sid, auth_token)
    with serve(fake.wsgi) as base:
        yield base, fake


def signed_post(client: FlaskClient, token: str, base: str, path: str,
                params: dict[str, str]) -> Any:
    """POST ``params`` to ``path`` as Twilio does: signed for ``base + path``."""
    sig = RequestValidator(token).compute_signature(base + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": sig})


class Texter:
    """A resident's phone texting the 311 number: Twilio Messaging's signed webhook."""

    def __init__(self, client: FlaskClient, token: str, base: str, phone: str,
                 to: str = "+12125550311") -> None:
        self.client, self.token, self.base, self.phone, self.to = client, token, base, phone, to

    def send(self, body: str = "", media: tuple[str, str] | None = None,
             sid: str | None = None, **extra: str) -> Any:
        """One message (``media``: URL and content type of a photo); ``sid`` repeats one."""
        params = {"MessageSid": f"SM{uuid.uuid4().hex}" if sid is None else sid,
                  "AccountSid": "AC1", "From": self.phone, "To": self.to, "Body": body,
                  "NumMedia": "1" if media else "0", "NumSegments": "1", **extra}
        if media:
            params |= {"MediaUrl0": media[0], "MediaContentType0": media[1]}
        return signed_post(self.client, self.token, self.base, "/twilio/sms", params)

    def text(self, body: str = "", media: tuple[str, str] | None = None,
             sid: str | None = None, **extra: str) -> str:
        """The reply civic311 texts back ("" when it sends none)."""
        resp = self.send(body, media, sid, **extra)
        assert resp.status_code == 200, (resp.status_code, resp.get_data(as_text=True))
        return reply_of(resp.get_data(as_text=True))


def reply_of(xml: str) -> str:
    """The text of a Messaging TwiML answer's ``<Message>`` ("" when there is none)."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(xml)
    assert root.tag == "Response", xml
    messages = root.findall("Message")
    assert len(messages) <= 1, xml
    return (messages[0].text or "") if messages else ""


class Twilio:
    """Twilio's side of the calls: signed webhooks to civic311 (the app's test client)."""

    def __init__(self, client: FlaskClient, rest: FakeTwilioRest, base: str) -> None:
        self.client, self.rest, self.base = client, rest, base

    def post(self, path: str, sid: str, **form: str) -> Any:
        params = {"CallSid": sid, "AccountSid": self.rest.account_sid, **form}
        return signed_post(self.client, self.rest.auth_token, self.base, path, params)

    def twiml(self, path: str, sid: str, **form: str) -> str:
        resp = self.post(path, sid, **form)
        assert resp.status_code in (200, 204), (path, resp.status_code, resp.get_data())
        return resp.get_data(as_text=True)

    def enqueue(self, sid: str, queue: str) -> str:
        """Twilio ran ``<Enqueue>``: the call is a member of the queue (created on demand)."""
        qsid = self.rest.queue_sid(queue)
        with self.rest.lock:
            self.rest.members[qsid].append(sid)
        return qsid

    def wait(self, sid: str, queue: str) -> str:
        """One run of the waitUrl, with the parameters Twilio sends."""
        qsid = self.rest.queue_sid(queue)
        with self.rest.lock:
            line = self.rest.members[qsid]
            position = line.index(sid) + 1 if sid in line else 0
        return self.twiml("/twilio/wait?lang=en", sid, QueueSid=qsid,
                          QueuePosition=str(position), QueueTime="0",
                          CurrentQueueSize=str(len(line)), MaxQueueSize="1000")

    def leave_queue(self, sid: str, queue: str, result: str) -> str:
        """The Enqueue action: the call left the queue (``result`` is QueueResult)."""
        qsid = self.rest.queue_sid(queue)
        with self.rest.lock:
            if sid in self.rest.members[qsid]:
                self.rest.members[qsid].remove(sid)
        return self.twiml(f"/twilio/enqueued?q={queue}", sid, QueueResult=result,
                          QueueSid=qsid, QueueTime="0", From="+12125550999")

    def dequeued_url(self, sid: str) -> str:
        """The Url civic311 gave in its (successful) dequeue of ``sid``: what Twilio runs."""
        hits = [r for r in self.rest.handled("dequeue") if r["path"].endswith(f"/{sid}.json")]
        assert hits, f"no dequeue of {sid}"
        return unescape(hits[-1]["form"]["Url"]).removeprefix(self.base)


def dial_of(xml: str) -> dict[str, str]:
    """The attributes of a TwiML ``<Dial>`` and the device it rings (``to``)."""
    m = re.search(r"<Dial ([^>]*)>(.*?)</Dial>", xml, re.S)
    assert m, xml
    attrs = {k: unescape(v) for k, v in re.findall(r'(\w+)="([^"]*)"', m.group(1))}
    inner = re.search(r"<(Client|Number)([^>]*)>([^<]+)</", m.group(2))
    assert inner, xml
    attrs["to"] = inner.group(3)
    attrs.update({f"leg_{k}": unescape(v) for k, v in re.findall(r'(\w+)="([^"]*)"',
                                                                  inner.group(2))})
    return attrs
