"""docker-compose.yml and the Makefile stay consistent with the command line they call."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from center.cli import cli

ROOT = Path(__file__).resolve().parents[3]


def test_compose_services_run_real_subcommands() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "asterisk", "daemon", "web", "worker", "render"} <= set(services)
    for name in ("daemon", "web", "worker"):
        argv = services[name]["command"]
        assert argv[0] == "civic311"
        help_run = CliRunner().invoke(cli, [*argv[1:2], "--help"])
        assert help_run.exit_code == 0, (name, help_run.output)
        env = services[name]["environment"]
        assert env["CIVIC311_ASTERISK_BINARY"] == "external"
        assert env["DATABASE_URL"].startswith("postgresql://")


def test_makefile_and_ci_use_the_readme_commands() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "\nrun:" in makefile and "\ntest:" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme


_VAR = re.compile(r"\$\{(\w+)(?:(:\?|:-|\?|-)([^}]*))?\}")


def interpolate(value: object, env: dict[str, str]) -> object:
    """Compose's variable substitution (``${V}``, ``${V:-default}``, ``${V:?error}``)."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3) or ""
        if env.get(name):
            return env[name]
        if op in (":?", "?"):
            raise ValueError(f"required variable {name} is missing: {arg}")
        return arg if op in (":-", "-") else ""

    return _VAR.sub(sub, value)


def compose_file() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def test_compose_refuses_to_start_without_a_database_password() -> None:
    compose = compose_file()
    raw = (ROOT / "docker-compose.yml").read_text()
    assert "POSTGRES_PASSWORD:-" not in raw and "change-me" not in raw
    with pytest.raises(ValueError, match="required variable POSTGRES_PASSWORD"):
        interpolate(compose, {})
    ready = interpolate(compose, {"POSTGRES_PASSWORD": "s3cret-from-the-city"})
    services = ready["services"]  # type: ignore[index]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == "s3cret-from-the-city"
    for name in ("daemon", "web", "worker", "render"):
        assert services[name]["environment"]["PGPASSWORD"] == "s3cret-from-the-city"
    # no secret falls back to a default written in the file
    for m in _VAR.finditer(raw):
        if any(word in m.group(1) for word in ("PASSWORD", "SECRET", "TOKEN", "KEY")):
            assert m.group(2) != ":-" or not m.group(3), m.group(0)


def test_postgres_is_reachable_only_by_the_app_services() -> None:
    services = compose_file()["services"]
    pg = services["postgres"]
    assert "ports" not in pg and "expose" not in pg
    assert pg["network_mode"] == "none"
    assert "listen_addresses=" in pg["command"]
    assert "--auth-local=scram-sha-256" in pg["environment"]["POSTGRES_INITDB_ARGS"]
    socket_mount = "pgsocket:/var/run/postgresql"
    assert socket_mount in pg["volumes"]
    for name in ("daemon", "web", "worker", "render"):
        assert socket_mount in services[name]["volumes"]
        url = services[name]["environment"]["DATABASE_URL"]
        assert url.endswith("?host=/var/run/postgresql") and "127.0.0.1" not in url
    assert socket_mount not in services["asterisk"].get("volumes", [])
