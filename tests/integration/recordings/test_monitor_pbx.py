"""Real Asterisk + SIPp phones: a supervisor's phone spies on a live agent call through AMI
Originate of ChanSpy, with the options of each mode (listen, whisper, barge)."""

from __future__ import annotations

import asyncio
import re

import pytest

from foundation.db import Database
from foundation.users import create_user
from recordings import ami
from recordings.monitor import MODES, MonitorError, SpyStarted, agent_channel, spy
from telephony.ami import AmiBridge
from tests.conftest import TEST_PASSWORD, csrf_token, login
from tests.support.pbx import Pbx, wait_until
from tests.support.recording_files import pbx_app
from tests.support.talking_phones import talking_caller

pytestmark = pytest.mark.asterisk


async def channels(bridge: AmiBridge) -> dict[str, dict[str, str]]:
    reply = await bridge.action("CoreShowChannels", wait_s=10)
    return {m["Channel"]: dict(m) for m in reply if m.get("Event") == "CoreShowChannel"}


async def spy_and_look(bridge: AmiBridge, mode: str) -> tuple[SpyStarted, dict[str, str]]:
    """Spy, then look at the supervisor's channel a second later (ChanSpy's S option ends a
    spy that has nothing to spy on, so a channel still in ChanSpy is spying)."""
    started = await spy(bridge, "107", "100", mode)
    await asyncio.sleep(1.0)
    seen = (await channels(bridge))[started.supervisor_channel]
    await bridge.action("Hangup", Channel=started.supervisor_channel)
    return started, seen


async def spy_on_idle_agent(bridge: AmiBridge) -> tuple[str, bool]:
    """The dialplan alone (no pre-check): a spy on an agent with no call ends by itself."""
    reply = await bridge.originate(Channel="PJSIP/agent107", Context="civic311-spy",
                                   Exten="listen", Priority="1", Variable="SPY_AGENT=101",
                                   Timeout="20000")
    await asyncio.sleep(1.0)
    return reply.get("Response", ""), reply.get("Channel", "") in await channels(bridge)


def test_supervisor_phone_spies_on_a_live_call(clean_pbx: Pbx, sqlite_db: Database) -> None:
    database = sqlite_db
    clean_pbx.add_agent("100", ["citywide"], ring_ms=200, talk_ms=40000)
    clean_pbx.add_agent("107", [], ring_ms=200, talk_ms=40000)  # the supervisor's own phone
    caller = talking_caller(clean_pbx.sip_target, hold_ms=40000, number="queue-citywide")
    try:
        def on_call() -> str | None:
            return asyncio.run(ami.with_bridge(clean_pbx.settings,
                                               lambda b: agent_channel(b, "100")))

        agent_chan = wait_until(on_call, 15, what="agent 100 on a bridged call")
        for mode in ("listen", "whisper", "barge"):
            started, seen = asyncio.run(ami.with_bridge(
                clean_pbx.settings, lambda b, mode=mode: spy_and_look(b, mode)))
            assert started.supervisor_channel.startswith("PJSIP/agent107-")
            assert started.agent_channel == agent_chan
            # the spy channel exists, is up, and runs ChanSpy on the agent with the mode's options
            assert seen["ChannelStateDesc"] == "Up"
            assert seen["Application"] == "ChanSpy"
            assert seen["ApplicationData"] == f"PJSIP/agent100-,{MODES[mode]}"
        assert set(MODES.values()) == {"qbES", "qbESw", "qbESB"}

        # the supervisor's POST route (real log-in, CSRF, JSON), on the same live call
        with database.session() as s:
            for role in ("supervisor", "agent"):
                create_user(s, f"{role}9", TEST_PASSWORD, role)
        app = pbx_app(clean_pbx, database)
        sup = app.test_client()
        login(sup, "supervisor9")
        token = csrf_token(sup, "/recordings/monitor")
        resp = sup.post("/recordings/monitor", headers={"X-CSRFToken": token},
                        json={"phone": "107", "agent": "100", "mode": "whisper"})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        body = resp.get_json()
        assert body["options"] == "qbESw" and body["agent_channel"] == agent_chan
        seen = asyncio.run(ami.with_bridge(clean_pbx.settings, channels))
        assert seen[body["supervisor_channel"]]["ApplicationData"] == "PJSIP/agent100-,qbESw"
        clean_pbx.rx(f"channel request hangup {body['supervisor_channel']}")
        bad = sup.post("/recordings/monitor", headers={"X-CSRFToken": token},
                       json={"phone": "107", "agent": "100", "mode": "shout"})
        assert bad.status_code == 400 and "mode" in bad.get_json()["description"]
        agent = app.test_client()
        login(agent, "agent9")
        assert agent.post("/recordings/monitor", headers={"X-CSRFToken": csrf_token(agent)},
                          json={"phone": "100", "agent": "101", "mode": "listen"}
                          ).status_code == 403

        assert asyncio.run(ami.with_bridge(clean_pbx.settings, spy_on_idle_agent)) == (
            "Success", False)
        with pytest.raises(MonitorError, match="on no call"):
            asyncio.run(ami.with_bridge(clean_pbx.settings, lambda b: spy(b, "107", "101",
                                                                          "listen")))
    finally:
        clean_pbx.rx("channel request hangup all")
        caller.stop()


def test_spy_refuses_bad_requests_before_touching_asterisk() -> None:
    for args in (("107", "100", "shout"), ("10 7", "100", "listen"), ("100", "100", "listen"),
                 ("107", "100;x", "whisper")):
        with pytest.raises(MonitorError):
            asyncio.run(spy(None, *args))  # type: ignore[arg-type]
    assert re.fullmatch(r"q\w+", MODES["listen"])
