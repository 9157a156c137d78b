"""Position and estimated wait said to a caller joining a queue: live counts from Asterisk's
own functions (played here byte for byte on a real socket), handle time from call records."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import yaml

from acd.models import CallRecord
from foundation.db import Database, utcnow
from foundation.settings import Settings
from ivr.menu import DEFAULT_MENU
from ivr.menu_agi import IvrHandler
from telephony.fastagi import FastAgiServer

HEADERS = (b"agi_network_script: ivr\nagi_uniqueid: 1700000001.7\nagi_callerid: 2125550100\n"
           b"agi_arg_1: city\n\n")
LIVE = {"QUEUE_WAITING_COUNT(citywide)": "3", "QUEUE_MEMBER(citywide,ready)": "0",
        "QUEUE_MEMBER(citywide,logged)": "2"}


def handler_for(settings: Settings, db: Database, tmp: Path) -> IvrHandler:
    settings.asterisk_binary = "external"
    settings.asterisk_sounds_dir = tmp / "sounds"
    menu = yaml.safe_load(DEFAULT_MENU.read_text())
    menu["hours"]["always_open"] = True
    (settings.data_dir / "ivr").mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "ivr" / "menu.yaml").write_text(yaml.safe_dump(menu))
    return IvrHandler(settings, db)


async def fake_asterisk(port: int, keys: str) -> list[str]:
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(HEADERS)
    seen, pending = [], list(keys)
    while line := (await r.readline()).decode().strip():
        seen.append(line)
        if line.startswith("GET FULL VARIABLE"):
            expr = line.split('"')[1][2:-1]
            reply = f"200 result=1 ({LIVE[expr]})"
        elif line.startswith("STREAM FILE") and not line.endswith('""') and pending:
            reply = f"200 result={ord(pending.pop(0))} endpos=100"
        else:
            reply = "200 result=0 endpos=100" if line.startswith("STREAM") else "200 result=1"
        w.write(reply.encode() + b"\n")
        await w.drain()
    w.close()
    return seen


def test_caller_hears_position_and_wait_from_live_data(settings: Settings, sqlite_db: Database,
                                                       tmp_path: Path) -> None:
    now = utcnow()
    with sqlite_db.session() as s:
        for i in range(4):  # handle time 200 + 40 = 240 s
            s.add(CallRecord(uniqueid=f"h{i}", queue="citywide", outcome="answered",
                             entered_at=now - timedelta(minutes=30 + i), talk_s=200.0,
                             acw_s=40.0, hold_s=0.0))
        s.add(CallRecord(uniqueid="old", queue="citywide", outcome="answered",
                         entered_at=now - timedelta(hours=5), talk_s=5000.0, hold_s=0.0))
    handler = handler_for(settings, sqlite_db, tmp_path)

    async def scenario() -> list[str]:
        async with FastAgiServer({"ivr": handler}, "127.0.0.1", 0) as server:
            assert isinstance(server.server, asyncio.Server)
            return await fake_asterisk(server.server.sockets[0].getsockname()[1], "10")

    seen = asyncio.run(scenario())
    assert 'SET VARIABLE CIVIC311_QUEUE "citywide"' in seen
    # 3 waiting, nobody ready, 2 logged in, 240 s each: (3 + 1) * 240 / 2 = 480 s
    assert 'SET VARIABLE CIVIC311_EWT_S "480"' in seen
    says = [line for line in seen if line.startswith("SAY NUMBER")]
    assert says == ['SAY NUMBER 4 ""', 'SAY NUMBER 8 ""']  # caller number 4, about 8 minutes
    assert seen.index(says[0]) > seen.index('SET VARIABLE CIVIC311_QUEUE "citywide"')
