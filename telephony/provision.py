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
from dataclasses import dataclass
from pathlib import Path

from foundation.settings import Settings

log = logging.getLogger(__name__)

PACKAGES = ["asterisk", "asterisk-core-sounds-en-gsm", "asterisk-core-sounds-es-gsm"]
MIN_MAJOR = 20


class ProvisionError(RuntimeError):
    """Asterisk cannot be had here; the message says what to install instead."""


@dataclass(frozen=True)
class Install:
    """Where Asterisk lives. ``root`` is set for the chroot kind, None for a system install."""

    root: Path | None
    etc_dir: Path  # host path of the config directory Asterisk reads
    log_dir: Path  # host path of queue_log and cdr-csv
    run_dir: Path  # host path of the control socket
    sounds_dir: Path  # host path of synthesized prompts Asterisk plays
    spool_dir: Path  # host path of recordings (monitor) and outgoing spool

    def command(self, *args: str) -> list[str]:
        if self.root is not None:
            return ["chroot", str(self.root), "/usr/sbin/asterisk", *args]
        return ["asterisk", "-C", str(self.etc_dir / "asterisk.conf"), *args]

    def inner(self, host_path: Path) -> str:
        """The path as Asterisk sees it (inside the chroot, if any)."""
        if self.root is None:
            return str(host_path)
        return "/" + str(host_path.relative_to(self.root))


def system_asterisk_major() -> int | None:
    exe = shutil.which("asterisk")
    if not exe:
        return None
    out = subprocess.run([exe, "-V"], capture_output=True, text=True, check=False).stdout
    m = re.search(r"Asterisk (\d+)", out)
    return int(m.group(1)) if m else None


def locate(settings: Settings) -> Install:
    """The install to use, without building anything."""
    if settings.asterisk_binary == "external":
        base = settings.data_dir / "asterisk"
        return Install(None, settings.asterisk_etc_dir or base / "etc",
                       settings.asterisk_log_dir or base / "log", base / "run",
                       settings.asterisk_sounds_dir or base / "sounds", base / "spool")
    if settings.asterisk_binary != "chroot":
        major = system_asterisk_major()
        if major is not None and major >= MIN_MAJOR:
            base = settings.data_dir / "asterisk"
            return Install(None, base / "etc", base / "log", base / "run", base / "sounds",
                           base / "spool")
    root = settings.asterisk_root
    return Install(root, root / "etc" / "asterisk", root / "var" / "log" / "asterisk",
                   root / "run" / "asterisk", root / "var" / "lib" / "civic311" / "sounds",
                   root / "var" / "spool" / "asterisk")


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
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    mirror = debian_mirror()
    log.info("building Asterisk root in %s from %s (about a minute)", tmp, mirror)
    subprocess.run(
        ["debootstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES), "sid",
         str(tmp), mirror],
        check=True, stdout=subprocess.DEVNULL,
    )
    tmp.rename(install.root)


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    """Replace a file with a new inode (a cloned root shares inodes with its base)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.chmod(mode)
    tmp.replace(path)


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
    from telephony.render import write_config

    install = locate(settings)
    if settings.asterisk_binary == "external":
        prepare(install)
        write_config(settings, install)
        return install
    if not is_built(install):
        base = locate(settings.model_copy(update={"asterisk_root_dir": None}))
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
