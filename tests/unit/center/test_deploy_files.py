"""docker-compose.yml and the Makefile stay consistent with the command line they call."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from pydantic import AliasChoices

from center.cli import cli
from foundation.settings import DEFAULT_NODE, Settings, load_settings
from telephony import nodes

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


DEFAULT_SERVICES = {"postgres", "render", "asterisk", "daemon", "web", "worker"}
TWO_NODE = {"render-west", "asterisk-west", "daemon-west", "frontdoor", "web-2", "worker-2"}
# environment an app service passes to someone other than civic311's settings
NOT_SETTINGS = {"PGPASSWORD"}  # libpq's: the database password on the socket


def in_profile(services: dict, profile: str | None) -> set[str]:  # type: ignore[type-arg]
    """The services ``docker compose [--profile P] up`` starts: those with no profile, and
    those of P."""
    return {n for n, svc in services.items()
            if not svc.get("profiles") or profile in svc["profiles"]}


def ready_services() -> dict:  # type: ignore[type-arg]
    ready = interpolate(compose_file(), {"POSTGRES_PASSWORD": "s3cret-from-the-city"})
    return ready["services"]  # type: ignore[index, no-any-return]


def app_settings(env: dict[str, str], tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings a service with ``env`` reads (its data directory moved under tmp)."""
    for key in [k for k in os.environ if k.startswith("CIVIC311_")] + [
            "DATABASE_URL", "PUBLIC_BASE_URL", "TWILIO_AUTH_TOKEN"]:
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, str(value))
    return load_settings(data_dir=str(tmp_path / "data"))


def test_the_default_profile_is_one_node_and_two_node_adds_the_second() -> None:
    services = ready_services()
    assert in_profile(services, None) == DEFAULT_SERVICES
    assert in_profile(services, "two-node") == DEFAULT_SERVICES | TWO_NODE
    for name in TWO_NODE:
        assert services[name]["profiles"] == ["two-node"], name
        for needed in services[name].get("depends_on", {}):
            assert needed in in_profile(services, "two-node"), (name, needed)
    for name in TWO_NODE - {"asterisk-west"}:  # each runs a real subcommand
        argv = services[name]["command"]
        sub = argv if argv[0] == "civic311" else argv[-1].split("&&")[0].split()
        assert sub[0] == "civic311", name
        words = [w for w in sub[1:3] if not w.startswith("-")]  # `web`, `frontdoor run`
        help_run = CliRunner().invoke(cli, [*words, "--help"])
        assert help_run.exit_code == 0, (name, help_run.output)
    assert services["frontdoor"]["command"][:3] == ["civic311", "frontdoor", "run"]
    assert services["frontdoor"]["build"]["target"] == "frontdoor"
    assert "FROM app AS frontdoor" in (ROOT / "Dockerfile").read_text()
    assert "kamailio" in (ROOT / "Dockerfile").read_text().split("AS frontdoor")[1]


def test_every_app_service_sets_only_real_settings(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    aliases = {alias for f in Settings.model_fields.values()
               if isinstance(f.validation_alias, AliasChoices)
               for alias in f.validation_alias.choices}
    services = ready_services()
    apps = [n for n, svc in services.items() if str(svc.get("image", "")).startswith("civic311")]
    assert set(apps) >= {"daemon", "web", "worker", "render", *TWO_NODE} - {"asterisk-west"}
    for name in apps:
        for key in services[name]["environment"]:
            known = (key.startswith("CIVIC311_") and key[9:].lower() in Settings.model_fields
                     ) or key in aliases or key in NOT_SETTINGS
            assert known, f"{name}: {key} is no setting"
        app_settings(services[name]["environment"], tmp_path, monkeypatch)  # and they load


def test_the_two_nodes_have_their_own_names_ports_and_volumes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    services = ready_services()
    main = app_settings(services["daemon"]["environment"], tmp_path, monkeypatch)
    west = app_settings(services["daemon-west"]["environment"], tmp_path, monkeypatch)
    rendered = app_settings(services["render-west"]["environment"], tmp_path, monkeypatch)
    assert (main.node, west.node) == (DEFAULT_NODE, "west")
    # west's daemon talks to the Asterisk west's render configured
    assert {k: getattr(west, k) for k in (*nodes.PORTS, "node")} == {
        k: getattr(rendered, k) for k in (*nodes.PORTS, "node")}
    for svc in ("render-west", "daemon-west", "asterisk-west"):
        mounts = {v.split(":")[0]: v.split(":")[1] for v in services[svc]["volumes"]}
        assert (mounts["asterisk-etc-west"], mounts["asterisk-log-west"]) == (
            "/etc/asterisk", "/var/log/asterisk"), svc
        assert "asterisk-etc" not in mounts and "asterisk-log" not in mounts, svc
    # every service shares the host's network: no two may listen on one port
    listening = []
    for node in (main, west):
        listening += [node.sip_port, node.sip_tls_port, node.ami_port, node.agi_port,
                      node.http_port, node.https_port, node.daemon_metrics_port,
                      node.agent_phone_base_port]
    door = app_settings(services["frontdoor"]["environment"], tmp_path, monkeypatch)
    web_ports = [int(services[w]["command"][services[w]["command"].index("--port") + 1])
                 if "--port" in services[w]["command"] else main.web_port
                 for w in ("web", "web-2")]
    listening += [door.frontdoor_port, *web_ports]
    assert len(listening) == len(set(listening)), sorted(listening)
    assert main.rtp_end < west.rtp_start or west.rtp_end < main.rtp_start
    # the front door dispatches to exactly these two nodes' SIP transports
    assert door.frontdoor_nodes == [f"{n.sip_host}:{n.sip_port}" for n in (main, west)]
