"""``<data_dir>/secrets.toml`` (mode 600): the secrets civic311 generates for itself.

Flat keys hold the installation's own secrets (AMI password, web session key, the resident
softphone's password); the ``[agent_sip_passwords]`` table holds one SIP digest password per
agent extension. A value is generated the first time it is missing and never changed after,
so every process of the installation (web, daemon, worker, CLI) reads the same ones.

Why agent passwords live here and not in a database table: the set of agent seats is a
setting (``agent_count``, ``agent_first_ext``), and the reader that needs every password is
the pjsip.conf renderer, which runs from the settings alone before any database is up (and
on a machine that renders config for an external Asterisk). Digest authentication needs the
plain password on both sides, so it cannot be stored hashed like a web log-in; keeping it
in the one private file with the other generated secrets keeps it out of database dumps,
replicas and the open-data export.

Two processes starting at once must not generate two different passwords: the read,
generate and write happen under an exclusive lock on ``secrets.lock``.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SECRETS = ("ami_secret", "secret_key", "sip_secret")


def sip_password() -> str:
    """A phone's SIP digest password: 24 URL-safe characters, never beginning with "0x"
    (SIPp, and other stacks that also speak AKA, take a password beginning so for a hex key
    and answer the challenge wrong: one generated password in 4096 did)."""
    while True:
        password = secrets.token_urlsafe(18)
        if password[:2].lower() != "0x":
            return password
AGENTS_TABLE = "agent_sip_passwords"


@dataclass(frozen=True)
class StoredSecrets:
    values: dict[str, str]  # the flat secrets, by setting name
    agents: dict[str, str]  # extension -> SIP password


def _read(path: Path) -> StoredSecrets:
    if not path.exists():
        return StoredSecrets({}, {})
    with path.open("rb") as fh:
        doc = tomllib.load(fh)
    table = doc.pop(AGENTS_TABLE, {})
    return StoredSecrets({k: str(v) for k, v in doc.items() if not isinstance(v, dict)},
                         {str(k): str(v) for k, v in table.items()})


def _write(path: Path, stored: StoredSecrets) -> None:
    lines = [f'{k} = "{v}"\n' for k, v in stored.values.items()]
    lines.append(f"\n[{AGENTS_TABLE}]\n")
    lines += [f'"{ext}" = "{pw}"\n' for ext, pw in sorted(stored.agents.items())]
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.writelines(lines)
    tmp.replace(path)


def stored_secret(data_dir: Path, key: str) -> str | None:
    """A secret someone else gave us (the carrier's trunk password), read from secrets.toml
    and never generated: None when it is not there."""
    value = _read(data_dir / "secrets.toml").values.get(key)
    return value or None


def load_secrets(data_dir: Path, agent_extensions: Iterable[str] = ()) -> StoredSecrets:
    """The stored secrets, with any of ``SECRETS`` or of the agents' passwords generated."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secrets.toml"
    lock_fd = os.open(data_dir / "secrets.lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        stored = _read(path)
        wanted = list(agent_extensions)
        if all(k in stored.values for k in SECRETS) and all(e in stored.agents for e in wanted):
            return stored
        for key in SECRETS:
            stored.values.setdefault(key, secrets.token_urlsafe(24))
        for ext in wanted:
            stored.agents.setdefault(ext, sip_password())
        _write(path, stored)
        return stored
    finally:
        os.close(lock_fd)  # closing releases the lock
