"""FastAGI round-trip latency of the IVR at 50 concurrent calls, as a ratio to a bare
panoramisk FastAGI echo handler measured in the same run.

A simulated Asterisk (asyncio client speaking AGI) opens 50 sessions at a time, answers
every command at once (prompts end at once; every other prompt is interrupted by a key) and,
in the IVR, presses 1 (English), 2 (FAQs), 1 (a FAQ), then hangs up at the next menu.
A round trip is the time from our reply (or the AGI headers) to the server's next command.
The IVR side runs the real handler: menu file, prompt cache (warmed
first; espeak-ng is not measured), SQLite rows at start and end of each call. The echo side is
panoramisk's own ``Application`` sending the same number of STREAM FILE commands.

Run: ``.venv/bin/python -m bench.bench_fastagi [--calls 50] [--waves 6]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import yaml
from panoramisk.fast_agi import Application

from center import schema
from foundation.db import Database
from foundation.settings import load_settings
from ivr.menu import DEFAULT_MENU
from ivr.menu_agi import IvrHandler
from telephony.fastagi import FastAgiServer

KEYS = "121"


async def fake_asterisk(port: int, script: str, uid: str, rtts: list[float]) -> int:
    """One call; returns the number of commands the server sent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    headers = {"agi_network_script": script, "agi_uniqueid": uid, "agi_callerid": "2125550100",
               "agi_arg_1": "city"}
    writer.write("".join(f"{k}: {v}\n" for k, v in headers.items()).encode() + b"\n")
    await writer.drain()
    sent = time.perf_counter()
    keys = list(KEYS)
    n = 0
    streams = 0
    try:
        while True:
            line = await reader.readline()
            if not line:
                return n
            rtts.append(time.perf_counter() - sent)
            n += 1
            cmd = line.decode().strip()
            if cmd.startswith("STREAM FILE") and '""' not in cmd:
                streams += 1  # the caller lets every other prompt play to its end
            if (cmd.startswith("WAIT FOR DIGIT") or (cmd.startswith("STREAM FILE")
                                                     and '""' not in cmd and streams % 2 == 0)):
                if not keys:
                    writer.write(b"HANGUP\n200 result=-1\n")
                    await writer.drain()
                    sent = time.perf_counter()
                    continue
                reply = f"200 result={ord(keys.pop(0))} endpos=800\n"
            elif cmd.startswith("SET VARIABLE"):
                reply = "200 result=1\n"
            else:
                reply = "200 result=0 endpos=800\n"
            writer.write(reply.encode())
            await writer.drain()
            sent = time.perf_counter()
    finally:
        writer.close()


async def run_side(port: int, script: str, calls: int, waves: int, tag: str) -> list[float]:
    rtts: list[float] = []
    for w in range(waves):
        await asyncio.gather(*(fake_asterisk(port, script, f"{tag}{w}.{i}", rtts)
                               for i in range(calls)))
    return rtts


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


async def main(calls: int, waves: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-fastagi-"))
    os.environ.update(CIVIC311_DATA_DIR=str(tmp), CIVIC311_ASTERISK_BINARY="external",
                      CIVIC311_ASTERISK_SOUNDS_DIR=str(tmp / "sounds"))
    settings = load_settings(database_url=f"sqlite:///{tmp / 'bench.db'}")
    db = Database(settings.db_url)
    schema.upgrade(db)
    menu = yaml.safe_load(DEFAULT_MENU.read_text())
    menu["hours"]["always_open"] = True
    (tmp / "ivr").mkdir()
    (tmp / "ivr" / "menu.yaml").write_text(yaml.safe_dump(menu, allow_unicode=True))
    handler = IvrHandler(settings, db)

    async with FastAgiServer({"ivr": handler}, "127.0.0.1", 0) as ivr_server:
        assert isinstance(ivr_server.server, asyncio.Server)
        ivr_port = ivr_server.server.sockets[0].getsockname()[1]
        warm: list[float] = []
        commands = await fake_asterisk(ivr_port, "ivr", "warm.0", warm)  # synthesizes prompts

        async def echo(request: object) -> None:
            for _ in range(commands):
                await request.send_command('STREAM FILE "silence/1" "0123456789*#"')  # type: ignore[attr-defined]

        app = Application()
        app.add_route("echo", echo)
        echo_server: asyncio.Server = await asyncio.start_server(app.handler, "127.0.0.1", 0)
        echo_port = echo_server.sockets[0].getsockname()[1]
        await run_side(echo_port, "echo", 5, 1, "w")
        results: dict[str, list[float]] = {"ivr": [], "echo": []}
        for rnd in range(3):  # interleaved so that machine load hits both sides alike
            results["echo"] += await run_side(echo_port, "echo", calls, waves, f"e{rnd}-")
            results["ivr"] += await run_side(ivr_port, "ivr", calls, waves, f"i{rnd}-")
        echo_server.close()
        await echo_server.wait_closed()

    print(f"{calls} concurrent calls x {waves} waves x 3 rounds; {commands} AGI commands per "
          f"call (keys {KEYS}, then hang-up)")
    print("| handler | round trips | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for name in ("echo", "ivr"):
        r = results[name]
        print(f"| {name} | {len(r)} | {statistics.median(r) * 1e3:.2f} | "
              f"{pct(r, 0.99) * 1e3:.2f} |")
    e50, e99 = statistics.median(results["echo"]), pct(results["echo"], 0.99)
    i50, i99 = statistics.median(results["ivr"]), pct(results["ivr"], 0.99)
    print(f"ratio IVR / bare panoramisk echo: p50 {i50 / e50:.2f}x, p99 {i99 / e99:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--waves", type=int, default=6)
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.waves))
