"""Regression tests for the panoramisk 1.4 FastAGI defects, against our server on a real
socket, with Asterisk's side of the protocol played byte for byte."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from telephony.fastagi import AgiChannel, AgiError, AgiHangup, FastAgiServer, quote

HEADERS = (b"agi_network: yes\nagi_network_script: ivr\nagi_request: agi://127.0.0.1/ivr\n"
           b"agi_channel: PJSIP/trunk-00000001\nagi_uniqueid: 1700000000.1\n"
           b"agi_callerid: +12125550100\n\n")


async def serve(handler):  # type: ignore[no-untyped-def]
    server = FastAgiServer({"ivr": handler}, "127.0.0.1", 0, header_timeout_s=0.5)
    await server.__aenter__()
    port = server.server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return server, port


def test_client_closing_before_headers_does_not_spin() -> None:
    async def scenario() -> tuple[int, float]:
        async def handler(channel: AgiChannel) -> None:
            raise AssertionError("never called")

        server, port = await serve(handler)
        cpu0 = time.process_time()
        for _ in range(20):
            _, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(b"agi_network: yes\n")  # half a header block, then gone
            w.close()
        await asyncio.sleep(1.0)
        cpu = time.process_time() - cpu0
        dropped = server.dropped
        await server.__aexit__(None, None, None)
        return dropped, cpu

    dropped, cpu = asyncio.run(scenario())
    assert dropped == 20
    assert cpu < 0.5  # panoramisk's loop spins at 100% here


def test_silent_client_is_dropped_after_the_header_timeout() -> None:
    async def handler(channel: AgiChannel) -> None:
        raise AssertionError("never called")

    async def scenario() -> int:
        server, port = await serve(handler)
        r, w = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(r.read(), 3) == b""  # closed by the server
        w.close()
        dropped = server.dropped
        await server.__aexit__(None, None, None)
        return dropped

    assert asyncio.run(scenario()) == 1


def test_sync_routes_are_refused_at_start() -> None:
    with pytest.raises(TypeError):  # panoramisk would call the removed asyncio.coroutine
        FastAgiServer({"ivr": lambda channel: None})


def test_hangup_line_does_not_shift_replies_and_stops_the_handler() -> None:
    seen: list[object] = []

    async def handler(channel: AgiChannel) -> None:
        seen.append(await channel.stream_file("welcome", "12"))
        try:
            await channel.get_data("menu", 3000, 1)
        except AgiHangup:
            seen.append("hangup")
            raise
        seen.append("not reached")

    async def scenario() -> None:
        server, port = await serve(handler)
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(HEADERS)
        assert (await r.readline()).startswith(b"STREAM FILE")
        w.write(b"200 result=49 endpos=1234\n")  # caller pressed 1
        assert (await r.readline()).startswith(b"GET DATA")
        # the caller hangs up mid-command: Asterisk sends HANGUP, then answers the command
        w.write(b"HANGUP\n200 result=-1\n")
        await asyncio.sleep(0.3)
        assert await r.read() == b""  # the server closed the session
        await server.__aexit__(None, None, None)
        assert server.served == 1

    asyncio.run(scenario())
    assert seen == ["1", "hangup"]


def test_command_errors_are_exceptions_not_dicts() -> None:
    outcome: list[str] = []

    async def handler(channel: AgiChannel) -> None:
        try:
            await channel.exec("NoSuchApp")
        except AgiError as exc:
            outcome.append(str(exc))
        try:
            await channel.command("BOGUS")
        except AgiError as exc:
            outcome.append(str(exc))

    async def scenario() -> None:
        server, port = await serve(handler)
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(HEADERS)
        await r.readline()
        w.write(b"200 result=-2\n")
        await r.readline()
        w.write(b"510 Invalid or unknown command\n")
        await asyncio.sleep(0.2)
        await server.__aexit__(None, None, None)

    asyncio.run(scenario())
    assert len(outcome) == 2
    assert "not found" in outcome[0] and "AGIInvalidCommand" in outcome[1]


def test_caller_text_cannot_inject_agi_commands() -> None:
    assert quote('Bob"\nHANGUP') == '"Bob\\"HANGUP"'
    assert "\n" not in quote("a\r\nb")


def test_result_minus_one_on_a_prompt_or_digit_wait_is_a_hangup() -> None:
    """Found by the SIPp fuzz: WAIT FOR DIGIT answered ``200 result=-1`` when the caller hung
    up; panoramisk calls that AGIAppError, and the IVR logged a failure for a normal hang-up."""
    outcome: list[str] = []

    async def handler(channel: AgiChannel) -> None:
        try:
            await channel.wait_for_digit(4000)
        except AgiHangup:
            outcome.append("hangup")
        outcome.append(f"hung_up={channel.hung_up}")
        try:
            await channel.stream_file("x", "1")
        except AgiHangup:
            outcome.append("refused")

    async def scenario() -> None:
        server, port = await serve(handler)
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(HEADERS)
        assert (await r.readline()).startswith(b"WAIT FOR DIGIT")
        w.write(b"200 result=-1\n")
        await asyncio.sleep(0.2)
        assert await asyncio.wait_for(r.read(), 2) == b""  # nothing more was sent
        await server.__aexit__(None, None, None)

    asyncio.run(scenario())
    assert outcome == ["hangup", "hung_up=True", "refused"]


def test_request_latency_is_exposed_by_the_daemon_endpoint() -> None:
    """Each request's duration and first-command wait, by route and outcome, scraped over
    HTTP from the daemon's own endpoint (``telephony.agi_metrics``)."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    from telephony.agi_metrics import AgiMetrics

    async def handler(channel: AgiChannel) -> None:
        await channel.answer()
        if channel.uniqueid.endswith(".2"):
            await channel.get_data("menu", 3000, 1)  # the caller hangs up here

    def scraped(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as res:
            text = res.read().decode()
        return {(smp.name, frozenset(smp.labels.items())): smp.value
                for f in text_string_to_metric_families(text) for smp in f.samples}

    async def scenario(metrics: AgiMetrics) -> None:
        server = FastAgiServer({"ivr": handler}, "127.0.0.1", 0, header_timeout_s=0.5,
                               observe=metrics.observe)
        await server.__aenter__()
        port = server.server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        for uid, reply in ((b"1", b"200 result=0\n"), (b"2", b"200 result=0\n")):
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(HEADERS.replace(b"1700000000.1", b"1700000000." + uid))
            assert (await r.readline()).startswith(b"ANSWER")
            w.write(reply)
            if uid == b"2":
                assert (await r.readline()).startswith(b"GET DATA")
                w.write(b"HANGUP\n200 result=-1\n")
            assert await asyncio.wait_for(r.read(), 3) == b""
            w.close()
        _, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(HEADERS.replace(b"script: ivr", b"script: nowhere"))
        await w.drain()
        deadline = time.monotonic() + 5
        while server.served < 2 or not metrics.registry.get_sample_value(
                "civic311_fastagi_requests_total",
                {"node": "node-a", "route": "", "outcome": "no_route"}):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        w.close()
        await server.__aexit__(None, None, None)

    with AgiMetrics("node-a").serve("127.0.0.1", 0) as metrics:
        asyncio.run(scenario(metrics))
        assert metrics.port
        got = scraped(metrics.port)
    ivr = {"node": "node-a", "route": "ivr"}
    for outcome in ("ok", "hangup"):
        labels = frozenset({**ivr, "outcome": outcome}.items())
        assert got[("civic311_fastagi_request_duration_seconds_count", labels)] == 1
        assert got[("civic311_fastagi_requests_total", labels)] == 1
        inf = frozenset({**ivr, "outcome": outcome, "le": "+Inf"}.items())
        assert got[("civic311_fastagi_request_duration_seconds_bucket", inf)] == 1
    nowhere = frozenset({"node": "node-a", "route": "", "outcome": "no_route"}.items())
    assert got[("civic311_fastagi_requests_total", nowhere)] == 1
    first = frozenset({**ivr, "le": "1.0"}.items())
    assert got[("civic311_fastagi_first_command_seconds_bucket", first)] == 2
    assert got[("civic311_fastagi_first_command_seconds_count", frozenset(ivr.items()))] == 2


def test_the_daemon_serves_its_metrics_port_and_survives_a_busy_one(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import socket
    import urllib.request

    from acd.daemon import Daemon
    from foundation.db import Database
    from foundation.settings import load_settings
    from telephony.install import Install

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    install = Install(None, tmp_path, tmp_path, tmp_path, tmp_path, tmp_path)
    db = Database(f"sqlite:///{tmp_path / 'd.db'}")

    def daemon(metrics_port: int) -> Daemon:
        settings = load_settings(data_dir=str(tmp_path / "data"), ami_secret="s", agi_port=0,
                                 daemon_metrics_port=metrics_port, node_name="node-b")
        return Daemon(settings, db, install)

    blocked = daemon(port)
    blocked.serve_metrics()  # logged, not raised: calls go on without the endpoint
    assert blocked.agi_metrics.port is None and "daemon metrics not served" in caplog.text
    busy.close()
    d = daemon(port)
    d.serve_metrics()
    try:
        assert d.agi.observe is not None
        d.agi.observe("survey", "ok", 3.0, 0.002)  # what the FastAGI server calls
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as res:
            text = res.read().decode()
        assert ('civic311_fastagi_requests_total{node="node-b",outcome="ok",route="survey"} 1.0'
                in text)
    finally:
        d.agi_metrics.close()
        db.dispose()
