"""Find or build an Asterisk to run: a system Asterisk >= 20, else a cached Debian-sid root.

The root is built once with debootstrap (about a minute and 500 MB) under the cache
directory, outside the repository, and reused; it is rebuilt only when missing.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

from foundation.settings import DEFAULT_NODE, Settings
from telephony.install import Install, locate, system_asterisk_major, write_atomic
from telephony.render import write_config

log = logging.getLogger(__name__)

PACKAGES = ["asterisk", "asterisk-core-sounds-en-gsm", "asterisk-core-sounds-es-gsm"]
DEBOOTSTRAP_ATTEMPTS = 3


class ProvisionError(RuntimeError):
    """Asterisk cannot be had here; the message says what to install instead."""


def debian_mirror() -> str:
    """The Debian mirror apt already uses here (never a hard-coded host)."""
    sources = [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*")]
    for path in sources:
        if not path.is_file() or path.suffix not in {"", ".list", ".sources"}:
            continue
        text = path.read_text(errors="replace")
        for m in re.finditer(r"(?m)^(?:deb\s+(?:\[[^\]]*\]\s+)?|URIs:\s*)(\S+)", text):
            url = m.group(1)
            if "debian" in url and "security" not in url:
                return url
    raise ProvisionError("no Debian mirror found in the apt sources")


def is_built(install: Install) -> bool:
    return install.root is None or (install.root / "usr" / "sbin" / "asterisk").exists()


def build_root(install: Install) -> None:
    """debootstrap a Debian-sid root with Asterisk into the cache (atomic rename at the end)."""
    assert install.root is not None
    if os.geteuid() != 0:
        raise ProvisionError(
            "Asterisk >= 20 is not installed and building the cached root needs root. "
            "Install Asterisk 20+ (Ubuntu 24.04: apt-get install asterisk), run this as root, "
            "or use docker compose (see README)."
        )
    if not shutil.which("debootstrap"):
        raise ProvisionError("debootstrap is missing: apt-get install debootstrap")
    tmp = install.root.with_name(install.root.name + ".partial")
    mirror = debian_mirror()
    for attempt in range(1, DEBOOTSTRAP_ATTEMPTS + 1):
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.parent.mkdir(parents=True, exist_ok=True)
        log.info("building Asterisk root in %s from %s (about a minute)", tmp, mirror)
        done = subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES), "sid",
             str(tmp), mirror],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        if done.returncode == 0:
            tmp.rename(install.root)
            return
        # a mirror's hiccup is the usual cause: say what debootstrap said, then try again
        said = _debootstrap_tail(tmp, done.stdout)
        log.warning("debootstrap failed (exit %s, attempt %s of %s):\n%s",
                    done.returncode, attempt, DEBOOTSTRAP_ATTEMPTS, said)
    raise ProvisionError(
        f"debootstrap could not build the Asterisk root from {mirror} "
        f"({DEBOOTSTRAP_ATTEMPTS} attempts; the last output is above): check the mirror "
        "can be reached, or install Asterisk 20+ on the system")


def _debootstrap_tail(root: Path, output: str, lines: int = 15) -> str:
    log_file = root / "debootstrap" / "debootstrap.log"
    text = log_file.read_text(errors="replace") if log_file.is_file() else ""
    return "\n".join((output + "\n" + text).strip().splitlines()[-lines:])


def clone_root(base: Path, dest: Path) -> None:
    """A second root sharing the base's files by hard links (seconds, no extra disk).

    Used by the tests so that they never touch the root ``make run`` uses; everything
    written into a clone is written as a new file (``write_atomic``), never in place.
    """
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-al", str(base), str(dest)], check=True)
    for sub in ("var/log/asterisk", "run/asterisk", "var/spool/asterisk",
                "var/lib/asterisk/astdb.sqlite3"):
        target = dest / sub
        if target.is_symlink():
            continue  # never follow a link out of the clone
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def prepare(install: Install) -> None:
    """Directories Asterisk writes to, and a hosts file in which this host name resolves."""
    for d in (install.etc_dir, install.log_dir, install.run_dir, install.sounds_dir,
              install.spool_dir, install.log_dir / "cdr-csv"):
        d.mkdir(parents=True, exist_ok=True)
    if install.root is None:
        return
    (install.root / "var" / "lib" / "asterisk").mkdir(parents=True, exist_ok=True)
    sounds = install.root / "usr" / "share" / "asterisk" / "sounds"
    if (sounds / "es_MX_f_Allison").is_dir() and not (sounds / "es").exists():
        (sounds / "es").symlink_to("es_MX_f_Allison")  # CHANNEL(language)=es finds Spanish
    hosts = Path("/etc/hosts").read_text()
    name = socket.gethostname()
    if not re.search(rf"(?m)^\s*[0-9a-f.:]+\s.*\b{re.escape(name)}\b", hosts):
        hosts += f"\n127.0.1.1 {name}\n"
    write_atomic(install.root / "etc" / "hosts", hosts)


def provision(settings: Settings) -> Install:
    """Make an Asterisk runnable and its config rendered; returns where it is."""
    install = locate(settings)
    if settings.asterisk_binary == "external":
        prepare(install)
        write_config(settings, install)
        return install
    if not is_built(install):
        base = locate(settings.model_copy(update={"asterisk_root_dir": None,
                                                  "node": DEFAULT_NODE}))
        if install.root != base.root and base.root is not None:
            if not is_built(base):
                build_root(base)
            clone_root(base.root, install.root)  # type: ignore[arg-type]
        else:
            build_root(install)
    if install.root is None and system_asterisk_major() is None:
        raise ProvisionError("no Asterisk found")
    prepare(install)
    write_config(settings, install)
    return install
