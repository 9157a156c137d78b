"""The suite's own ports: parallel workers never share one."""

from __future__ import annotations

from tests.support import ports


def offsets() -> list[int]:
    return [ports.WORKER_STRIDE * w for w in range(ports.MAX_WORKERS)]


def test_no_two_workers_share_a_port() -> None:
    seen: dict[int, int] = {}
    for off in offsets():
        for p in ports.ports_at(off):
            assert p not in seen, f"port {p} of offset {off} is also offset {seen[p]}'s"
            seen[p] = off
    assert max(seen) < 21000, "fixed ports must stay below Asterisk's RTP range"


def test_the_worker_and_the_checkout_both_move_the_ports() -> None:
    assert ports.offset({"CIVIC311_TEST_PORT_OFFSET": "200", "PYTEST_XDIST_WORKER": "gw2"}) \
        == 200 + 2 * ports.WORKER_STRIDE
    assert ports.offset({}) == 0
