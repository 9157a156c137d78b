"""Sessions and log-in through HTTP: throttling per account and per address (on a clock the
test moves), revocation of copied cookies on log-out and on a new password, the Secure flag
over https, the request size limit and the minimal anonymous /status."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from center.cli import cli
from center.web import create_app
from foundation import throttle
from foundation.db import Database
from foundation.settings import Settings
from tests.conftest import TEST_PASSWORD, csrf_token, login


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_app(settings: Settings, database: Database, clock: Clock) -> Flask:
    settings.database_url = database.url
    app = create_app(settings, database, clock=clock)
    app.config.update(TESTING=True)
    return app


@pytest.fixture
def web(settings: Settings, database: Database, clock: Clock) -> Flask:
    return make_app(settings, database, clock)


def client_at(app: Flask, address: str = "192.0.2.10", **headers: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": address,
                                **{f"HTTP_{k.upper()}": v for k, v in headers.items()}})
    return client


def text(res) -> str:  # type: ignore[no-untyped-def]
    return res.get_data(as_text=True)


def test_five_failures_lock_the_account_for_a_growing_delay(
        web: Flask, users: dict[str, str], clock: Clock) -> None:
    client = client_at(web)
    for _ in range(4):
        res = login(client, "agent1", "wrong-password-123")
        assert res.status_code == 401 and "Wrong user name or password." in text(res)
    fifth = login(client, "agent1", "wrong-password-123")
    assert fifth.status_code == 429 and fifth.headers["Retry-After"] == "900"
    # 15:15 UTC is 10:15 in the city (America/New_York)
    assert "Too many failed log-ins. Try again in 15 minutes (after 10:15)." in text(fifth)
    # the right password does not get in while locked, from another address either
    assert login(client_at(web, "198.51.100.7"), "agent1").status_code == 429
    assert login(client, "manager1").status_code == 302  # other accounts are not locked
    clock.now += timedelta(minutes=14, seconds=59)
    late = login(client, "agent1")
    assert late.status_code == 429 and late.headers["Retry-After"] == "1"
    assert "Try again in 1 minute (after 10:15)." in text(late)
    clock.now += timedelta(seconds=1)
    assert login(client_at(web), "agent1").status_code == 302
    # a success cleared the count: four failures do not lock; the next lock is twice as long
    for _ in range(4):
        assert login(client, "agent1", "wrong-password-123").status_code == 401
    assert login(client, "agent1").status_code == 302
    for _ in range(5):
        res = login(client, "agent1", "wrong-password-123")
    assert res.status_code == 429 and res.headers["Retry-After"] == "900"
    clock.now += timedelta(minutes=15)
    for _ in range(5):
        res = login(client, "agent1", "wrong-password-123")
    assert res.status_code == 429 and res.headers["Retry-After"] == "1800"
    assert "Try again in 30 minutes" in text(res)


def test_an_unknown_user_name_is_locked_alike(web: Flask, users: dict[str, str]) -> None:
    client = client_at(web)
    for _ in range(5):
        res = login(client, "nobody", "wrong-password-123")
    assert res.status_code == 429 and "Too many failed log-ins" in text(res)


def test_one_address_guessing_many_accounts_is_locked(
        settings: Settings, database: Database, users: dict[str, str], clock: Clock) -> None:
    settings.login_max_failures_per_address = 6
    app = make_app(settings, database, clock)
    guesser = client_at(app, "203.0.113.5", X_Forwarded_For="198.51.100.99")
    for i in range(5):
        assert login(guesser, f"user{i}", "wrong-password-123").status_code == 401
    assert login(guesser, "user5", "wrong-password-123").status_code == 429
    assert login(guesser, "admin1").status_code == 429  # the address, not the account
    # X-Forwarded-For is not believed without a trusted proxy: the forged address is free
    # only because the real one was counted
    assert login(client_at(app, "198.51.100.99"), "admin1").status_code == 302
    clock.now += timedelta(minutes=15)
    assert login(guesser, "admin1").status_code == 302


def test_behind_a_trusted_proxy_the_forwarded_address_counts(
        settings: Settings, database: Database, users: dict[str, str], clock: Clock) -> None:
    settings.login_max_failures_per_address = 3
    settings.trusted_proxies = 1
    app = make_app(settings, database, clock)
    for i in range(3):
        login(client_at(app, "10.0.0.2", X_Forwarded_For="198.51.100.1"), f"u{i}", "x" * 12)
    assert login(client_at(app, "10.0.0.2", X_Forwarded_For="198.51.100.1"),
                 "admin1").status_code == 429
    # another resident behind the same proxy is not locked out with the guesser
    assert login(client_at(app, "10.0.0.2", X_Forwarded_For="198.51.100.2"),
                 "admin1").status_code == 302


def test_every_web_process_sees_the_same_counts(
        settings: Settings, database: Database, users: dict[str, str], clock: Clock) -> None:
    first = make_app(settings, database, clock)
    second = make_app(settings, Database(database.url), clock)
    for app in (first, second, first, second):
        assert login(client_at(app), "qa1", "wrong-password-123").status_code == 401
    assert login(client_at(second), "qa1", "wrong-password-123").status_code == 429
    assert login(client_at(first), "qa1").status_code == 429


def copy_session(source: FlaskClient, app: Flask) -> FlaskClient:
    cookie = source.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def test_a_copied_cookie_is_refused_after_log_out(web: Flask, users: dict[str, str]) -> None:
    owner = client_at(web)
    assert login(owner, "admin1").status_code == 302
    thief = copy_session(owner, web)
    assert thief.get("/admin/status").status_code == 200  # a copy works while the session does
    token = csrf_token(owner, "/admin/status")
    assert owner.post("/logout", data={"csrf_token": token}).status_code == 302
    assert thief.get("/admin/status").status_code == 302  # to the log-in page
    assert thief.get("/api/v1/metrics").status_code == 401
    assert owner.get("/admin/status").status_code == 302
    assert login(owner, "admin1").status_code == 302  # logging in again works
    assert thief.get("/admin/status").status_code == 302  # the old copy stays dead


def test_a_new_password_ends_every_session(web: Flask, database: Database,
                                           users: dict[str, str]) -> None:
    owner = client_at(web)
    login(owner, "supervisor1")
    thief = copy_session(owner, web)
    assert thief.get("/api/v1/metrics").status_code == 200
    res = CliRunner().invoke(cli, ["--database-url", database.url, "user", "password",
                                   "supervisor1", "--password", "a-brand-new-secret"])
    assert res.exit_code == 0, res.output
    assert thief.get("/api/v1/metrics").status_code == 401
    assert owner.get("/api/v1/metrics").status_code == 401
    assert login(client_at(web), "supervisor1", TEST_PASSWORD).status_code == 401
    assert login(client_at(web), "supervisor1", "a-brand-new-secret").status_code == 302
    bad = CliRunner().invoke(cli, ["--database-url", database.url, "user", "password",
                                   "supervisor1", "--password", "short"])
    assert bad.exit_code != 0 and "at least 10 characters" in bad.output
    assert login(client_at(web), "supervisor1", "a-brand-new-secret").status_code == 302


@pytest.mark.parametrize(("base_url", "explicit", "secure"), [
    ("https://311.civic.example", None, True),
    ("http://127.0.0.1:8311", None, False),
    (None, None, False),
    ("http://127.0.0.1:8311", True, True),
])
def test_the_session_cookie_is_secure_over_https(
        settings: Settings, database: Database, users: dict[str, str], clock: Clock,
        base_url: str | None, explicit: bool | None, secure: bool) -> None:
    settings.public_base_url = base_url
    settings.session_cookie_secure = explicit
    app = make_app(settings, database, clock)
    res = login(client_at(app), "manager1")
    cookie = next(c for c in res.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert ("; Secure" in cookie) is secure
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_an_oversized_body_gets_a_413(settings: Settings, database: Database,
                                      users: dict[str, str], clock: Clock) -> None:
    settings.max_request_bytes = 4096
    app = make_app(settings, database, clock)
    client = client_at(app)
    page = client.post("/login", data={"username": "admin1", "password": "x" * 5000,
                                       "csrf_token": csrf_token(client)})
    assert page.status_code == 413 and "at most 4096 bytes" in text(page)
    assert login(client, "admin1").status_code == 302  # a normal body still gets in
    api = client.post("/api/v1/crm/tickets", data="x" * 5000, content_type="application/json")
    assert api.status_code == 413
    assert api.get_json() == {"error": "too_large",
                              "message": "request body too large: at most 4096 bytes"}
    open311 = client.post("/open311/v2/requests.json", data={"description": "x" * 5000})
    assert open311.status_code == 413
    assert open311.get_json() == [{"code": 413,
                                   "description": "request body too large: at most 4096 bytes"}]


def test_status_is_minimal_for_anyone_but_admins_and_supervisors(
        web: Flask, users: dict[str, str]) -> None:
    anon = web.test_client().get("/status")
    assert anon.status_code == 503 and anon.get_json() == {"status": "degraded"}
    agent = client_at(web)
    login(agent, "agent1")
    assert agent.get("/status").get_json() == {"status": "degraded"}
    for role in ("admin1", "supervisor1"):
        staff = client_at(web)
        login(staff, role)
        body = staff.get("/status").get_json()
        assert body["components"]["database"]["ok"] is True
        assert body["components"]["daemon"]["ok"] is False
    assert not re.search(r"sqlite|postgres", text(anon))


def test_failures_counted_at_once_are_all_counted(database: Database, clock: Clock) -> None:
    policy = throttle.Policy(100, timedelta(minutes=15), timedelta(minutes=15),
                             timedelta(days=1))
    other = Database(database.url)  # a second process's engine

    def fail(db: Database) -> None:
        with db.session() as s:
            throttle.record_failure(s, {throttle.Scope.ACCOUNT: ("agent1", policy)}, clock())

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(fail, [database, other] * 6))
    other.dispose()
    with database.session() as s:
        row = s.get(throttle.LoginThrottle, ("account", "agent1"))
        assert row is not None and row.failures == 12
