"""Settings precedence: defaults in code < TOML file < environment < command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from foundation.settings import load_settings


def test_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("CIVIC311_WEB_PORT", "CIVIC311_CITY_NAME", "CIVIC311_CONFIG_FILE"):
        monkeypatch.delenv(key, raising=False)
    toml = tmp_path / "civic311.toml"
    toml.write_text('web_port = 9000\ncity_name = "Toml City"\ntimezone = "America/Chicago"\n')
    s = load_settings(toml, data_dir=str(tmp_path))
    assert (s.web_port, s.city_name, s.timezone) == (9000, "Toml City", "America/Chicago")
    monkeypatch.setenv("CIVIC311_WEB_PORT", "9100")
    assert load_settings(toml, data_dir=str(tmp_path)).web_port == 9100
    assert load_settings(toml, data_dir=str(tmp_path), web_port=9200).web_port == 9200
    assert load_settings(toml, data_dir=str(tmp_path)).sip_port == 5060  # code default


def test_secrets_are_generated_once_and_private(tmp_path: Path) -> None:
    first = load_settings(data_dir=str(tmp_path))
    again = load_settings(data_dir=str(tmp_path))
    assert first.ami_secret and first.ami_secret == again.ami_secret
    assert first.secret_key == again.secret_key
    assert (tmp_path / "secrets.toml").stat().st_mode & 0o077 == 0


def test_database_url_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    assert load_settings(data_dir=str(tmp_path)).db_url.startswith("postgresql://")
    monkeypatch.delenv("DATABASE_URL")
    assert load_settings(data_dir=str(tmp_path)).db_url.startswith("sqlite:///")
