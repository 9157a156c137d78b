"""Log-in, CSRF, role checks (deny by default), /status, and the user CLI."""

from __future__ import annotations

from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select

from center.cli import cli
from foundation.db import Database
from foundation.users import User
from tests.conftest import TEST_PASSWORD, login


def test_login_needs_csrf_and_the_right_password(app: Flask, users: dict[str, str]) -> None:
    client = app.test_client()
    assert client.post("/login", data={"username": "admin1",
                                       "password": TEST_PASSWORD}).status_code == 400
    assert login(client, "admin1", "wrong-password-123").status_code == 401
    ok = login(client, "admin1")
    assert ok.status_code == 302
    assert client.get("/admin/status").status_code == 200


def test_roles_are_checked_on_pages_and_api(app: Flask, users: dict[str, str]) -> None:
    anon = app.test_client()
    assert anon.get("/api/v1/metrics").status_code == 401
    assert anon.get("/admin/status").status_code == 302  # to the log-in page
    agent = app.test_client()
    login(agent, users["agent"])
    assert agent.get("/api/v1/metrics").status_code == 403
    assert agent.get("/admin/status").status_code == 403
    supervisor = app.test_client()
    login(supervisor, users["supervisor"])
    data = supervisor.get("/api/v1/metrics").get_json()
    assert data["offered"] == 0 and set(data["service_level"]) == {"30", "60"}
    bad = supervisor.get("/api/v1/metrics?from=yesterday")
    assert bad.status_code == 400 and bad.get_json()["error"] == "bad_datetime"


def test_a_route_without_a_policy_is_refused(app: Flask, users: dict[str, str]) -> None:
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    client = app.test_client()
    login(client, users["admin"])
    assert client.get("/forgotten").status_code == 403


def test_logout_is_a_csrf_protected_post(app: Flask, users: dict[str, str]) -> None:
    client = app.test_client()
    login(client, users["manager"])
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no CSRF token


def test_status_reports_each_component(app: Flask, users: dict[str, str]) -> None:
    client = app.test_client()
    login(client, users["admin"])
    res = client.get("/status")
    body = res.get_json()
    assert res.status_code == 503  # no daemon or worker heartbeat yet
    assert body["components"]["database"]["ok"] is True
    assert body["components"]["daemon"]["ok"] is False


def test_prometheus_metrics_are_exposed(app: Flask) -> None:
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'civic311_calls_offered_today{queue="citywide"} 0.0' in text


def test_user_create_rejects_bad_input_and_changes_nothing(database: Database) -> None:
    runner = CliRunner()
    bad = runner.invoke(cli, ["--database-url", database.url, "user", "create", "eve",
                              "--role", "root", "--password", "long-enough-password"])
    assert bad.exit_code != 0 and "unknown role" in bad.output
    short = runner.invoke(cli, ["--database-url", database.url, "user", "create", "eve",
                                "--role", "agent", "--password", "short"])
    assert short.exit_code != 0
    ok = runner.invoke(cli, ["--database-url", database.url, "user", "create", "eve",
                             "--role", "agent", "--password", "long-enough-password"])
    assert ok.exit_code == 0, ok.output
    with database.session() as s:
        assert s.scalar(select(func.count(User.id))) == 1
        user = s.scalar(select(User))
        assert user is not None and user.password_hash.startswith("$argon2id$")
