"""Single sign-on with OpenID Connect against a real local provider over HTTP: groups give
the role, people without a mapped group and name clashes with local users are refused, a
forged or foreign ID token gets nobody in, and log-out ends an SSO session like any other."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from foundation.db import Database
from foundation.settings import Settings
from foundation.users import User
from tests.conftest import csrf_token
from tests.integration.test_sessions import Clock, client_at, make_app, text
from tests.support.fake_remote import serve
from tests.support.oidc_provider import Provider


@pytest.fixture
def provider() -> Iterator[Provider]:
    idp = Provider("civic311", "client-secret-of-the-city")
    with serve(idp) as url:
        idp.issuer = url
        yield idp


@pytest.fixture
def sso_app(settings: Settings, database: Database, provider: Provider) -> Flask:
    settings.oidc_issuer = provider.issuer
    settings.oidc_client_id, settings.oidc_client_secret = "civic311", provider.client_secret
    settings.oidc_roles = {"311-admins": "admin", "311-supervisors": "supervisor",
                           "311-agents": "agent", "sanitation": "agency:DSNY"}
    return make_app(settings, database, Clock())


def sso_login(client: FlaskClient):  # type: ignore[no-untyped-def]
    """The browser's round trip: us -> the provider (real HTTP) -> our callback."""
    start = client.get("/login/sso?next=/crm/queue")
    assert start.status_code == 302
    at_provider = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    assert at_provider.status_code == 302, at_provider.text
    back = urlparse(at_provider.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


def test_groups_give_the_role_at_every_log_in(sso_app: Flask, provider: Provider,
                                              database: Database) -> None:
    assert "single sign-on" in text(sso_app.test_client().get("/login"))
    provider.person = {"sub": "u-1", "preferred_username": "jane.doe@civic.example",
                       "name": "Jane Doe", "groups": ["staff", "311-supervisors", "311-agents"]}
    client = client_at(sso_app)
    res = sso_login(client)
    assert res.status_code == 302 and res.headers["Location"] == "/crm/queue"
    assert client.get("/api/v1/metrics").status_code == 200  # supervisor: first match
    with database.session() as s:
        jane = s.scalar(select(User).where(User.username == "jane_doe_civic_example"))
        assert jane is not None and jane.role == "supervisor" and jane.full_name == "Jane Doe"
    provider.person["groups"] = ["sanitation"]
    again = client_at(sso_app)
    sso_login(again)
    assert again.get("/api/v1/metrics").status_code == 403  # now an agency worker
    with database.session() as s:
        jane = s.scalar(select(User).where(User.sso_subject.is_not(None)))
        assert jane is not None and (jane.role, jane.agency) == ("agency", "DSNY")
        assert s.scalar(select(func.count(User.id))) == 1
    token = csrf_token(again, "/crm/queue")
    thief = sso_app.test_client()
    thief.set_cookie("session", again.get_cookie("session").value)  # type: ignore[union-attr]
    assert again.post("/logout", data={"csrf_token": token}).status_code == 302
    assert thief.get("/crm/queue").status_code == 302


def test_no_mapped_group_no_entry(sso_app: Flask, provider: Provider,
                                  database: Database) -> None:
    provider.person = {"sub": "u-2", "preferred_username": "visitor", "groups": ["parks"]}
    res = sso_login(client_at(sso_app))
    assert res.status_code == 403
    assert "Single sign-on refused: your account is in no group that has a civic311 role" \
        in text(res)
    with database.session() as s:
        assert s.scalar(select(func.count(User.id))) == 0


def test_a_provider_never_takes_over_a_local_account(
        sso_app: Flask, provider: Provider, database: Database, users: dict[str, str]) -> None:
    provider.person = {"sub": "u-3", "preferred_username": "admin1", "groups": ["311-agents"]}
    res = sso_login(client_at(sso_app))
    assert res.status_code == 403 and "a local user &#39;admin1&#39; already exists" in text(res)
    with database.session() as s:
        admin = s.scalar(select(User).where(User.username == "admin1"))
        assert admin is not None and admin.role == "admin" and admin.sso_subject is None


@pytest.mark.parametrize("tamper", [{"iss": "https://evil.example"}, {"aud": "someone-else"},
                                    {"nonce": "replayed"}])
def test_a_foreign_or_forged_id_token_gets_nobody_in(
        sso_app: Flask, provider: Provider, database: Database,
        tamper: dict[str, str]) -> None:
    provider.person = {"sub": "u-4", "preferred_username": "mallory", "groups": ["311-admins"]}
    provider.tamper = tamper
    client = client_at(sso_app)
    res = sso_login(client)
    assert res.status_code == 403 and "Single sign-on refused" in text(res)
    assert client.get("/admin/status").status_code == 302
    with database.session() as s:
        assert s.scalar(select(func.count(User.id))) == 0


def test_a_callback_without_its_state_is_refused(sso_app: Flask) -> None:
    res = client_at(sso_app).get("/login/sso/callback?code=abc&state=forged")
    assert res.status_code == 403 and "Single sign-on refused" in text(res)


def test_a_bad_role_mapping_stops_the_app(settings: Settings, database: Database,
                                          provider: Provider) -> None:
    settings.oidc_issuer = provider.issuer
    settings.oidc_client_id, settings.oidc_client_secret = "civic311", "x"
    settings.oidc_roles = {"311-admins": "root"}
    with pytest.raises(ValueError, match="oidc_roles"):
        make_app(settings, database, Clock())
