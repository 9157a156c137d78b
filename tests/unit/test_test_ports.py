"""The suite's own ports: parallel workers and side-by-side checkouts never share one."""

from __future__ import annotations

from tests.support import ports


def offsets() -> list[int]:
    checkouts = [100 * i for i in range(9)]
    return [c + ports.WORKER_STRIDE * w for c in checkouts for w in range(ports.MAX_WORKERS)
            if c == 0 or w == 0]  # helpers' checkouts run one worker; the main one up to three


def test_no_two_workers_or_checkouts_share_a_port() -> None:
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
