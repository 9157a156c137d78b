"""Where Asterisk lives (a system install, a cached root, or elsewhere under docker compose),
found from the settings without building anything."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from foundation.settings import DEFAULT_NODE, Settings

MIN_MAJOR = 20


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
            if settings.node != DEFAULT_NODE:  # several nodes on one host: one tree each
                base = settings.data_dir / "nodes" / settings.node / "asterisk"
            return Install(None, base / "etc", base / "log", base / "run", base / "sounds",
                           base / "spool")
    root = settings.asterisk_root
    return Install(root, root / "etc" / "asterisk", root / "var" / "log" / "asterisk",
                   root / "run" / "asterisk", root / "var" / "lib" / "civic311" / "sounds",
                   root / "var" / "spool" / "asterisk")


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    """Replace a file with a new inode (a cloned root shares inodes with its base)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    # created owner-only, so a secret is never readable by others, even for a moment
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    tmp.chmod(mode)
    tmp.replace(path)
