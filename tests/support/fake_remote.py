"""Real local HTTP servers for the bridge tests: another city's Open311 endpoint (a second
civic311 app) that fails on purpose, and a Twilio-compatible Messages endpoint."""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@contextmanager
def serve(app: Callable[..., Any]) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


class Flaky:
    """WSGI middleware: the first ``down`` POSTs get 503 without reaching the app (down);
    POST number ``lose`` reaches the app but its answer is replaced by a 502 (lost reply)."""

    def __init__(self, app: Callable[..., Any], down: int, lose: int | None = None) -> None:
        self.app, self.down, self.lose = app, down, lose
        self.posts = 0
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ["REQUEST_METHOD"] != "POST":
            return self.app(environ, start_response)
        with self.lock:
            self.posts += 1
            n = self.posts
        if n <= self.down:
            return Response("service unavailable", status=503)(environ, start_response)
        if n == self.lose:
            body = b"".join(self.app(environ, lambda *a, **k: None))
            del body
            return Response("bad gateway", status=502)(environ, start_response)
        return self.app(environ, start_response)


@contextmanager
def serve_fake_twilio() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    @Request.application
    def app(request: Request) -> Response:
        if request.method != "POST" or not request.path.endswith(("/Messages.json",
                                                                   "/Calls.json")):
            return Response("not found", status=404)
        auth = request.headers.get("Authorization", "")
        user, _, pw = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
        if not re.fullmatch(r"\+[1-9]\d{7,14}", request.form.get("To", "")):
            return Response(json.dumps({  # what Twilio answers for a number it cannot dial
                "code": 21211, "message": f"Invalid 'To' Phone Number: {request.form.get('To')}",
                "status": 400}), status=400, content_type="application/json")
        received.append({**request.form.to_dict(), "auth": (user, pw), "path": request.path})
        return Response('{"sid": "SM0001", "status": "queued"}', status=201,
                        content_type="application/json")

    with serve(app) as base:
        yield base, received


class Updates:
    """A remote's ``GET requests.json`` answering with whatever ``body`` holds (the rows of a
    well-behaved remote, or garbage); ``status`` other than 200 is a remote in trouble."""

    def __init__(self, body: Any, status: int = 200) -> None:
        self.body, self.status = body, status
        self.gets = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if request.method != "GET" or not request.path.endswith("/requests.json"):
            return Response("not found", status=404)(environ, start_response)
        self.gets += 1
        return Response(json.dumps(self.body), status=self.status,
                        content_type="application/json")(environ, start_response)
