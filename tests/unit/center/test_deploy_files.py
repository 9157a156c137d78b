"""docker-compose.yml and the Makefile stay consistent with the command line they call."""

from __future__ import annotations

from pathlib import Path

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
