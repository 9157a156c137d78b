"""Start, stop and query the provisioned Asterisk."""

from __future__ import annotations

import logging
import re
import subprocess
import time

from telephony.install import Install

log = logging.getLogger(__name__)


def foreground_command(install: Install) -> list[str]:
    """The command a supervisor runs: Asterisk in the foreground, console off."""
    return install.command("-f", "-n")


def rx(install: Install, command: str, timeout: float = 10) -> str:
    """Run one CLI command on the running Asterisk (``asterisk -rx``)."""
    proc = subprocess.run(install.command("-rx", command), capture_output=True, text=True,
                          timeout=timeout, check=False)
    if proc.returncode != 0 or "Unable to connect" in proc.stdout + proc.stderr:
        raise RuntimeError(f"Asterisk is not running ({(proc.stdout + proc.stderr).strip()})")
    return proc.stdout


def is_running(install: Install) -> bool:
    try:
        return "System uptime" in rx(install, "core show uptime seconds", timeout=5)
    except (RuntimeError, subprocess.TimeoutExpired):
        return False


def uptime_s(install: Install) -> int | None:
    try:
        out = rx(install, "core show uptime seconds", timeout=5)
    except (RuntimeError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"System uptime:\s*(\d+)", out)
    return int(m.group(1)) if m else None


def wait_fully_booted(install: Install, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if "fully booted" in rx(install, "core waitfullybooted", timeout=timeout).lower():
                return
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"Asterisk did not boot within {timeout:.0f} s")


def start_background(install: Install) -> None:
    """Start Asterisk daemonized (``civic311 asterisk start``); ``up`` supervises it instead."""
    if is_running(install):
        return
    subprocess.run(install.command("-n"), check=True)
    wait_fully_booted(install)


def stop(install: Install, timeout: float = 20) -> None:
    if not is_running(install):
        return
    try:
        rx(install, "core stop now", timeout=timeout)
    except RuntimeError:
        return
    deadline = time.monotonic() + timeout
    while is_running(install) and time.monotonic() < deadline:
        time.sleep(0.2)
