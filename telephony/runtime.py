"""Start, stop and query the provisioned Asterisk."""

from __future__ import annotations

import logging
import re
import subprocess
import time
from collections.abc import Callable

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


def active_calls(install: Install) -> int:
    """How many calls Asterisk has up (``core show channels count``); 0 when it is down."""
    try:
        out = rx(install, "core show channels count", timeout=5)
    except (RuntimeError, subprocess.TimeoutExpired):
        return 0
    m = re.search(r"(\d+) (?:of \d+ max )?active calls?", out)
    return int(m.group(1)) if m else 0


def drain(install: Install, exited: Callable[[], bool], grace_s: float) -> int:
    """Stop taking new calls, let the calls that are up end for ``grace_s`` seconds, then
    hang up the rest; returns how many calls were cut. Asterisk writes the end of every
    call, cut or not, to queue_log and AMI before this returns.

    ``core stop gracefully`` refuses new calls and exits once the last channel is gone; it
    also refuses most CLI commands, so at the deadline the shutdown is aborted for the
    moment it takes to cut the calls left (``channel request hangup all``) and asked for
    again. ``exited`` tells whether the Asterisk process is gone.
    """
    if not is_running(install):
        return 0
    # the CLI client blocks until Asterisk exits: started, never waited for
    waiter = subprocess.Popen(install.command("-rx", "core stop gracefully"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + grace_s
        while not exited() and time.monotonic() < deadline:
            time.sleep(0.2)
        if exited():
            return 0
        try:
            rx(install, "core abort shutdown")
            cut = active_calls(install)
            rx(install, "channel request hangup all")
            end = time.monotonic() + 10
            while active_calls(install) and time.monotonic() < end:
                time.sleep(0.1)
            subprocess.Popen(install.command("-rx", "core stop gracefully"),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).wait(10)
        except (RuntimeError, subprocess.TimeoutExpired):
            return 0 if exited() else active_calls(install)
        return cut
    finally:
        if waiter.poll() is None:
            waiter.kill()
        waiter.wait()


def parse_aor_contact(text: str, aor: str) -> tuple[str, str] | None:
    """(contact URI, status) of the one contact in ``pjsip show aor AOR`` output, or None.

    The status (Avail, Unavail, Unknown...) comes from the contacts table, whose column cuts
    long URIs short; the full URI comes from the ``contact`` parameter line.
    """
    uri = re.search(r"(?m)^\s*contact\s*:\s*(\S+)", text)
    row = re.search(rf"Contact:\s+{re.escape(aor)}/\S+\s+[0-9a-f]+\s+(\w+)", text)
    return (uri.group(1), row.group(1)) if uri and row else None


def registered_contact(install: Install, aor: str) -> tuple[str, str] | None:
    """What phone is registered to ``aor`` now, and whether it answers qualify."""
    return parse_aor_contact(rx(install, f"pjsip show aor {aor}"), aor)


def wait_registered(install: Install, aor: str, marker: str, timeout: float = 15,
                    alive: Callable[[], bool] = lambda: True) -> None:
    """Wait until the contact registered to ``aor`` contains ``marker`` (a phone's unique
    Contact parameter) and is reachable (``Avail``: it answered Asterisk's OPTIONS)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise TimeoutError(f"the phone registering to {aor} exited")
        got = registered_contact(install, aor)
        if got and marker in got[0] and got[1] == "Avail":
            return
        time.sleep(0.05)
    raise TimeoutError(f"no reachable phone registered to {aor} within {timeout:.0f} s")
