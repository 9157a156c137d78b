"""Stopping a child process the tests started: asked (SIGTERM), then told (SIGKILL)."""

from __future__ import annotations

import subprocess
from typing import Any


def stop(proc: subprocess.Popen[Any], grace_s: float) -> None:
    """SIGTERM, and SIGKILL if it is still running ``grace_s`` later; reaped either way."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
