"""Regenerate tests/data/ami_mixed.txt (and queue_log_mixed.txt): a real AMI stream of
mixed queue outcomes.

Run as root with the cached Asterisk root built: ``.venv/bin/python -m tests.data.record_ami``.
It starts the test PBX, logs in to AMI over a raw socket, and records every byte while
SIPp places an answered call, an abandoned call, a timed-out call, a call that exits with
a key, and a call refused because no agent is logged in.
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from pathlib import Path

from center import schema
from foundation.settings import default_cache_dir
from tests.support.pbx import make_pbx, running_daemon

OUT = Path(__file__).with_name("ami_mixed.txt")
QLOG = Path(__file__).with_name("queue_log_mixed.txt")


def main() -> None:
    pbx = make_pbx(Path(tempfile.mkdtemp()), default_cache_dir())
    pbx.start()
    buf = bytearray()
    sock = socket.create_connection(("127.0.0.1", pbx.settings.ami_port))
    sock.sendall(f"Action: Login\r\nUsername: {pbx.settings.ami_user}\r\n"
                 f"Secret: {pbx.settings.ami_secret}\r\nEvents: on\r\n\r\n".encode())
    stop = threading.Event()

    def reader() -> None:
        sock.settimeout(0.5)
        while not stop.is_set():
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                return
            buf.extend(data)

    t = threading.Thread(target=reader)
    t.start()
    tmp = Path(tempfile.mkdtemp())
    db_url = f"sqlite:///{tmp / 'rec.db'}"
    from foundation.db import Database

    schema.upgrade(Database(db_url))
    try:
        pbx.reset()
        with running_daemon(pbx, db_url, tmp / "daemon.log"):
            pbx.call(calls=1, hold_ms=8000).wait(30)  # refused: nobody logged in
            pbx.add_agent("100", ["citywide"], ring_ms=300, talk_ms=5000)
            runs = [pbx.call(calls=1, hold_ms=30000)]  # answered
            time.sleep(1)
            runs.append(pbx.call(calls=1, hold_ms=5000))  # abandoned while the agent is busy
            time.sleep(0.5)
            runs.append(pbx.call(calls=1, digits="9", first_digit_ms=4500, hold_ms=30000))
            for r in runs:
                r.wait(60)
            pbx.add_agent("101", ["noise"], ring_ms=60000, talk_ms=1000)  # never answers
            pbx.call(calls=1, digits="5", hold_ms=30000).wait(60)  # timeout (noise: 4 s)
            waiting = pbx.call(calls=1, digits="5", hold_ms=30000)
            time.sleep(3)
            pbx.rx("queue remove member PJSIP/agent101 from noise")  # leave-empty
            waiting.wait(60)
            time.sleep(1)
    finally:
        stop.set()
        t.join()
        sock.close()
        pbx.stop_phones()
        pbx.stop()
    OUT.write_bytes(bytes(buf))
    QLOG.write_text(pbx.queue_log.read_text())
    print(f"wrote {len(buf)} bytes to {OUT} and the same run's queue_log to {QLOG}")


if __name__ == "__main__":
    main()
