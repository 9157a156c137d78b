"""A small but real OpenID Connect provider over HTTP (authorization code flow, RS256 ID
tokens signed with a key published at its JWKS endpoint), for the single sign-on tests.

``person`` is whoever "logs in" at the provider next: the authorize endpoint approves them at
once and sends the browser back with a code.
"""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.wrappers import Request, Response


class Provider:
    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})
        self.issuer = ""  # set once served
        self.person: dict[str, Any] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.tamper: dict[str, Any] = {}  # claims to overwrite in the next ID token

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = Request(environ)
        handler = {"/.well-known/openid-configuration": self.discovery,
                   "/authorize": self.authorize, "/token": self.token,
                   "/jwks": self.jwks}.get(req.path)
        res = handler(req) if handler else Response("not found", 404)
        return res(environ, start_response)

    def discovery(self, req: Request) -> Response:
        return _json({"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                      "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                      "response_types_supported": ["code"], "subject_types_supported": ["public"],
                      "id_token_signing_alg_values_supported": ["RS256"]})

    def jwks(self, req: Request) -> Response:
        return _json(KeySet([self.key]).as_dict(private=False))

    def authorize(self, req: Request) -> Response:
        args = req.args
        if args.get("client_id") != self.client_id or args.get("response_type") != "code":
            return Response("bad client", 400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": args.get("nonce"), "redirect_uri": args["redirect_uri"],
                            "person": dict(self.person)}
        query = urlencode({"code": code, "state": args.get("state", "")})
        return Response(status=302, headers={"Location": f"{args['redirect_uri']}?{query}"})

    def token(self, req: Request) -> Response:
        basic = req.headers.get("Authorization", "").removeprefix("Basic ")
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if basic != expected:
            return _json({"error": "invalid_client"}, 401)
        grant = self.codes.pop(req.form.get("code", ""), None)
        if grant is None or req.form.get("redirect_uri") != grant["redirect_uri"]:
            return _json({"error": "invalid_grant"}, 400)
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 300,
                  "nonce": grant["nonce"], **grant["person"], **self.tamper}
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.key)
        return _json({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                      "expires_in": 300, "id_token": id_token})


def _json(body: dict[str, Any], status: int = 200) -> Response:
    import json

    return Response(json.dumps(body), status, content_type="application/json")
