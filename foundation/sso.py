"""Optional single sign-on with OpenID Connect (Authlib): the city's identity provider vouches
for a person, and the person's groups give the civic311 role.

Settings: ``oidc_issuer`` (discovery at ``<issuer>/.well-known/openid-configuration``),
``oidc_client_id``, ``oidc_client_secret``, ``oidc_groups_claim`` (default ``groups``) and
``oidc_roles``, group -> role, the first group in the order written that the person has wins
(``"agency:DSNY"`` is an agency worker of DSNY). A person in no mapped group is refused.

The local user is found by the provider's subject (``users.sso_subject`` =
``<issuer> <sub>``), created at the first log-in under ``preferred_username`` (refused when a
local user already has that name: an identity provider never takes over a local account), and
its role and agency follow the groups at every log-in. The session is then an ordinary one
(revoked by log-out like any other). The provider runs its own second factor: civic311 asks
no TOTP code after single sign-on.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from authlib.integrations.flask_client import OAuth, OAuthError
from flask import Flask, flash, render_template, request, session, url_for
from joserfc.errors import JoseError  # Authlib's JOSE layer: what ID-token checks raise
from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation.db import Database
from foundation.settings import Settings
from foundation.users import Role, User, UserError, create_user

SUBJECT_CHARS = 255


def role_for(groups: Sequence[str], mapping: Mapping[str, str]) -> tuple[Role, str | None] | None:
    """The role (and agency) of the first mapped group the person has, or None."""
    for group, target in mapping.items():
        if group in groups:
            role, _, agency = target.partition(":")
            return Role(role), agency or None
    return None


def check_mapping(mapping: Mapping[str, str]) -> None:
    for group, target in mapping.items():
        role, _, agency = target.partition(":")
        if role not in {r.value for r in Role} or (role == Role.AGENCY) != bool(agency):
            raise ValueError(f"oidc_roles: {group!r} -> {target!r}: a role "
                             "(agent, supervisor, qa, manager, admin) or agency:<CODE>")


def local_user(s: Session, issuer: str, claims: Mapping[str, Any],
               mapping: Mapping[str, str], groups_claim: str) -> User:
    """The civic311 user for these ID-token claims, created or brought up to date."""
    groups = claims.get(groups_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    found = role_for([str(g) for g in groups], mapping)
    if found is None:
        raise UserError("your account is in no group that has a civic311 role")
    role, agency = found
    subject = f"{issuer} {claims['sub']}"[:SUBJECT_CHARS]
    user = s.scalar(select(User).where(User.sso_subject == subject))
    if user is None:
        name = re.sub(r"[^A-Za-z0-9_]", "_", str(claims.get("preferred_username") or ""))[:64]
        if s.scalar(select(User).where(User.username == name)) is not None:
            raise UserError(f"a local user {name!r} already exists; an administrator must "
                            "rename one of the two")
        user = create_user(s, name, secrets.token_urlsafe(32), role.value, agency=agency,
                           full_name=str(claims.get("name") or "")[:128])
        user.sso_subject = subject
    if not user.active:
        raise UserError("this account is disabled")
    user.role, user.agency = role.value, agency
    s.flush()
    return user


Views = tuple[Callable[[], Any], Callable[[], Any]]


def build(app: Flask, db: Database, settings: Settings,
          start: Callable[[User, str | None], Any]) -> Views | None:
    """The views of ``/login/sso`` and its callback, or None when SSO is not configured;
    ``start`` opens the session of the user the provider vouched for."""
    if not settings.oidc_issuer:
        return None
    if not (settings.oidc_client_id and settings.oidc_client_secret):
        raise ValueError("oidc_issuer is set: oidc_client_id and oidc_client_secret are needed")
    check_mapping(settings.oidc_roles)
    issuer = settings.oidc_issuer.rstrip("/")
    oauth = OAuth(app)
    provider = oauth.register(
        "city", client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": f"openid profile {settings.oidc_groups_claim}"})

    def refused(message: str) -> Any:
        flash(f"Single sign-on refused: {message}.", "error")
        return render_template("login.html"), 403

    def sso_start() -> Any:
        session["sso_next"] = request.args.get("next")
        base = settings.public_base_url
        callback = (base.rstrip("/") + url_for("auth.sso_callback") if base
                    else url_for("auth.sso_callback", _external=True))
        return provider.authorize_redirect(callback)

    def sso_callback() -> Any:
        try:
            token = provider.authorize_access_token()
        except OAuthError as exc:  # state, code or client refused
            return refused(exc.description or exc.error or "the provider said no")
        except JoseError as exc:  # the ID token: signature, issuer, audience, nonce, expiry
            return refused(f"the ID token does not hold ({exc.error})")
        claims = token.get("userinfo") or {}
        if str(claims.get("iss", "")).rstrip("/") != issuer or not claims.get("sub"):
            return refused("the ID token is not from the configured provider")
        try:
            with db.session() as s:
                user = local_user(s, issuer, claims, settings.oidc_roles,
                                  settings.oidc_groups_claim)
        except UserError as exc:
            return refused(str(exc))
        return start(user, session.pop("sso_next", None))

    return sso_start, sso_callback
