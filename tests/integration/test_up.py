"""``civic311 up`` brings Asterisk, the daemon, the web server and the worker up, reports
them on /status, survives a component crash, and stops everything cleanly on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from foundation.settings import default_cache_dir
from tests.conftest import TEST_PASSWORD
from tests.support import ports
from tests.support.pbx import wait_until

pytestmark = pytest.mark.asterisk

PORTS = {k.upper(): str(ports.port(f"up_{k}")) for k in (
    "sip_port", "ami_port", "agi_port", "agent_phone_base_port", "web_port")}
rtp_start, rtp_end = ports.rtp_range(24000, 1998)
PORTS |= {"RTP_START": str(rtp_start), "RTP_END": str(rtp_end)}


def status(port: str, http: requests.Session | None = None) -> dict:  # type: ignore[type-arg]
    """/status as an admin sees it (anonymous callers only get ok/degraded)."""
    try:
        return (http or requests).get(f"http://127.0.0.1:{port}/status",  # type: ignore[no-any-return]
                                      timeout=2).json()
    except (requests.RequestException, ValueError):
        return {}


def admin_session(port: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"http://127.0.0.1:{port}/login", timeout=2).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    http.post(f"http://127.0.0.1:{port}/login", timeout=2, allow_redirects=False,
              data={"username": "admin1", "password": TEST_PASSWORD, "csrf_token": token})
    return http


def test_up_supervises_everything_and_stops_cleanly(tmp_path: Path) -> None:
    env = {**os.environ, "CIVIC311_DATA_DIR": str(tmp_path / "data"),
           "CIVIC311_CACHE_DIR": str(default_cache_dir()), "CIVIC311_ASTERISK_BINARY": "chroot",
           "CIVIC311_ASTERISK_ROOT_DIR": str(tmp_path / "root"),
           **{f"CIVIC311_{k}": v for k, v in PORTS.items()}}
    env.pop("DATABASE_URL", None)
    for argv in (["db", "upgrade"], ["user", "create", "admin1", "--role", "admin",
                                     "--password", TEST_PASSWORD]):
        subprocess.run([sys.executable, "-m", "center", *argv], env=env, check=True,
                       capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "center", "up"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: status(PORTS["WEB_PORT"]) == {"status": "ok"}, 90,
                   what="/status ok for anyone")
        http = admin_session(PORTS["WEB_PORT"])
        body = status(PORTS["WEB_PORT"], http)
        daemon = body["components"]["daemon"]
        assert daemon["ami_connected"] is True and daemon["asterisk_uptime_s"] >= 0
        assert body["components"]["worker"]["ok"] and body["components"]["database"]["ok"]
        # a crashed component is restarted by the supervisor
        out = subprocess.run(["pgrep", "-f", "-P", str(proc.pid), "center worker"],
                             capture_output=True, text=True).stdout.split()
        assert out, "worker child not found"
        os.kill(int(out[0]), signal.SIGKILL)
        wait_until(lambda: subprocess.run(["pgrep", "-f", "-P", str(proc.pid), "center worker"],
                                          capture_output=True, text=True).stdout.split()
                   not in ([], out), 20, what="the worker to be restarted")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = proc.stdout.read().decode() if proc.stdout else ""
    assert "civic311 is up" in output and "civic311 stopped" in output
    assert status(PORTS["WEB_PORT"]) == {}  # the web server is gone
    left = subprocess.run(["chroot", str(tmp_path / "root"), "/usr/sbin/asterisk", "-rx",
                           "core show uptime"], capture_output=True, text=True)
    assert "System uptime" not in left.stdout, "the Asterisk of this test is still running"
