"""Agent phone accounts: generated passwords, and the pjsip.conf rendered from them."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from foundation.settings import Settings, load_settings
from telephony import phones
from telephony.install import Install
from telephony.render import render_all, write_config


def sections(text: str) -> list[tuple[str, dict[str, str]]]:
    """pjsip.conf as (section name, options) in order, templates applied; names repeat
    (an endpoint and its AOR)."""
    out: list[tuple[str, dict[str, str]]] = []
    templates: dict[str, dict[str, str]] = {}
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if line.startswith("["):
            name, _, rest = line[1:].partition("]")
            parent = rest.strip("()")
            out.append((name, {} if parent in ("", "!") else dict(templates[parent])))
            if parent == "!":
                templates[name] = out[-1][1]
        elif "=" in line and out:
            key, value = (p.strip() for p in line.split("=", 1))
            out[-1][1][key] = value
    return out


def of_type(text: str, kind: str) -> dict[str, dict[str, str]]:
    return {name: opts for name, opts in sections(text) if opts.get("type") == kind}


def pjsip(settings: Settings, tmp_path: Path) -> str:
    install = Install(None, tmp_path / "etc", tmp_path / "log", tmp_path / "run",
                      tmp_path / "sounds", tmp_path / "spool")
    return render_all(settings, install)["pjsip.conf"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=str(tmp_path / "data"), agent_count=3)


def test_every_agent_gets_a_generated_password_kept_private_and_stable(
        tmp_path: Path, settings: Settings) -> None:
    passwords = settings.agent_sip_passwords
    assert sorted(passwords) == ["100", "101", "102"]
    assert len(set(passwords.values())) == 3 and all(len(p) >= 24 for p in passwords.values())
    secrets_file = tmp_path / "data" / "secrets.toml"
    assert secrets_file.stat().st_mode & 0o077 == 0
    with secrets_file.open("rb") as fh:
        assert tomllib.load(fh)["agent_sip_passwords"] == passwords
    again = load_settings(data_dir=str(tmp_path / "data"), agent_count=4)
    assert {k: again.agent_sip_passwords[k] for k in passwords} == passwords  # never changed
    assert again.agent_sip_passwords["103"] not in passwords.values()  # a new seat: a new one
    assert again.ami_secret == settings.ami_secret


def test_a_generated_password_never_begins_with_0x(monkeypatch: pytest.MonkeyPatch) -> None:
    """SIPp (and stacks that speak AKA) read a password beginning with "0x" as a hex key and
    answer the digest challenge wrong: such a draw is drawn again."""
    from foundation import secret_store

    draws = iter(["0xAbCdEfGh1234567890abcd", "0XAbCdEfGh1234567890abcd",
                  "x0AbCdEfGh1234567890abcd"])
    monkeypatch.setattr(secret_store.secrets, "token_urlsafe", lambda n: next(draws))
    assert secret_store.sip_password() == "x0AbCdEfGh1234567890abcd"


def test_a_configured_password_wins_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    s = load_settings(data_dir=str(tmp_path), agent_count=2,
                      agent_sip_passwords={"100": "chosen-by-the-city-1"})
    assert s.agent_sip_passwords["100"] == "chosen-by-the-city-1"
    assert s.agent_sip_passwords["101"] != "chosen-by-the-city-1"
    with pytest.raises(ValidationError, match="agent 100's SIP password must be 12 to 128"):
        load_settings(data_dir=str(tmp_path), agent_sip_passwords={"100": "short;comment"})
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text(secrets_file.read_text().replace(
        s.agent_sip_passwords["101"], "hand edited; oops"))
    with pytest.raises(ValueError, match="the SIP password of agent 101 must be"):
        load_settings(data_dir=str(tmp_path), agent_count=2)


def test_each_agent_is_a_digest_account_with_a_dynamic_qualified_aor(
        tmp_path: Path, settings: Settings) -> None:
    text = pjsip(settings, tmp_path)
    endpoints, auths, aors = (of_type(text, k) for k in ("endpoint", "auth", "aor"))
    for ext, password in settings.agent_sip_passwords.items():
        user = f"agent{ext}"
        assert endpoints[user]["auth"] == f"{user}-auth" and endpoints[user]["aors"] == user
        assert auths[f"{user}-auth"] == {"type": "auth", "auth_type": "userpass",
                                         "username": user, "password": password}
        # one contact, which a new registration replaces, qualified; never a static contact
        aor = aors[user]
        assert (aor["max_contacts"], aor["remove_existing"], aor["qualify_frequency"]) == (
            "1", "yes", str(settings.agent_qualify_s))
        assert "contact" not in aor


def test_udp_and_tcp_always_tls_only_with_a_certificate(tmp_path: Path,
                                                        settings: Settings) -> None:
    transports = of_type(pjsip(settings, tmp_path), "transport")
    assert {n: t["protocol"] for n, t in transports.items()} == {
        "transport-udp": "udp", "transport-tcp": "tcp", "transport-ws": "ws"}  # ws: browsers
    assert transports["transport-tcp"]["bind"] == f"127.0.0.1:{settings.sip_port}"
    half = settings.model_copy(update={"sip_tls_cert_file": Path("/etc/ssl/pbx.pem")})
    assert "transport-tls" not in of_type(pjsip(half, tmp_path), "transport")
    tls = half.model_copy(update={"sip_tls_key_file": Path("/etc/ssl/pbx.key"),
                                  "sip_tls_port": 5071})
    got = of_type(pjsip(tls, tmp_path), "transport")["transport-tls"]
    assert (got["bind"], got["cert_file"], got["priv_key_file"]) == (
        "127.0.0.1:5071", "/etc/ssl/pbx.pem", "/etc/ssl/pbx.key")
    assert [t.protocol for t in phones.account(tls, "100").transports] == ["udp", "tcp", "tls"]


def test_a_chroot_reads_its_own_copy_of_the_tls_files(tmp_path: Path,
                                                      settings: Settings) -> None:
    (tmp_path / "pbx.pem").write_text("CERT")
    (tmp_path / "pbx.key").write_text("KEY")
    tls = settings.model_copy(update={"sip_tls_cert_file": tmp_path / "pbx.pem",
                                      "sip_tls_key_file": tmp_path / "pbx.key"})
    root = tmp_path / "root"
    install = Install(root, root / "etc" / "asterisk", root / "log", root / "run",
                      root / "sounds", root / "spool")
    (root / "sounds" / "moh").mkdir(parents=True)
    (root / "sounds" / "moh" / "hold.wav").write_bytes(b"")
    write_config(tls, install)
    got = of_type((install.etc_dir / "pjsip.conf").read_text(), "transport")["transport-tls"]
    assert (got["cert_file"], got["priv_key_file"]) == (
        "/etc/asterisk/keys/sip-tls.crt", "/etc/asterisk/keys/sip-tls.key")
    key = install.etc_dir / "keys" / "sip-tls.key"
    assert key.read_text() == "KEY" and key.stat().st_mode & 0o077 == 0


def test_local_callers_are_trusted_only_when_the_setting_says_so(
        tmp_path: Path, settings: Settings) -> None:
    assert not settings.resident_trust_local  # the default
    off = pjsip(settings, tmp_path)
    assert of_type(off, "identify") == {} and "match =" not in off
    assert "trunk" not in of_type(off, "endpoint")
    on = pjsip(settings.model_copy(update={"resident_trust_local": True}), tmp_path)
    assert of_type(on, "identify") == {"trunk": {"type": "identify", "endpoint": "trunk",
                                                 "match": "127.0.0.1/32"}}
    # a request naming an agent is challenged even from a trusted address
    assert dict(sections(on))["global"]["endpoint_identifier_order"] == "username,ip"


def test_the_rendered_file_holding_passwords_is_not_world_readable(
        tmp_path: Path, settings: Settings) -> None:
    install = Install(None, tmp_path / "etc", tmp_path / "log", tmp_path / "run",
                      tmp_path / "sounds", tmp_path / "spool")
    install.sounds_dir.mkdir(parents=True)
    (install.sounds_dir / "moh").mkdir()
    (install.sounds_dir / "moh" / "hold.wav").write_bytes(b"")  # no sox needed here
    write_config(settings, install)
    assert (install.etc_dir / "pjsip.conf").stat().st_mode & 0o007 == 0


def test_the_account_an_agent_is_shown(settings: Settings) -> None:
    acct = phones.account(settings, "101")
    assert acct.as_dict() == {
        "ext": "101", "server": "127.0.0.1", "port": settings.sip_port, "transport": "udp",
        "user": "agent101", "auth_user": "agent101",
        "password": settings.agent_sip_passwords["101"],
        "transports": [{"protocol": "udp", "port": settings.sip_port},
                       {"protocol": "tcp", "port": settings.sip_port}]}
    named = settings.model_copy(update={"sip_host": "0.0.0.0", "sip_server": "pbx.city.gov"})
    assert phones.account(named, "101").server == "pbx.city.gov"
    with pytest.raises(phones.UnknownAgent, match="no agent seat '999'; the agents are 100..102"):
        phones.account(settings, "999")


def test_civic311_agent_phone_prints_the_account(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from center.cli import cli

    monkeypatch.delenv("CIVIC311_AGENT_COUNT", raising=False)
    data = ["--data-dir", str(tmp_path)]
    password = load_settings(data_dir=str(tmp_path)).agent_sip_passwords["102"]
    out = CliRunner().invoke(cli, [*data, "agent", "phone", "102"])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines() == [
        "server     127.0.0.1", "port       5060", "transport  udp (5060), tcp (5060)",
        "user       agent102", f"password   {password}"]
    out = CliRunner().invoke(cli, [*data, "agent", "phone", "102", "--json"])
    assert json.loads(out.output)["password"] == password
    out = CliRunner().invoke(cli, [*data, "agent", "phone", "99"])
    assert out.exit_code == 1 and "no agent seat '99'" in out.output
