"""A node that never comes back: once its daemon has been silent past ``node_lost_after_s``
(or has beaten that long without reaching its Asterisk), the worker closes its open calls
at its last heartbeat (or the loss of its Asterisk): waiting ones dropped, answered ones
ended, with a note; other nodes' calls and a node still beating are left alone; running
it twice changes nothing; and if the node does come back, its queue_log's truth wins."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from acd import daemon as daemon_module
from acd import live_store
from acd.daemon import Daemon
from acd.models import CallRecord
from acd.node_lost import How, close_lost_calls, lost_note
from acd.reconcile import reconcile
from acd.recorder import close_cut_calls
from acd.states import CallOutcome
from center.worker import collect_jobs
from foundation import heartbeat
from foundation.db import Database, utcnow
from foundation.settings import DEFAULT_NODE, Settings, load_settings
from telephony.install import Install

T = 1_780_000_000
LOST_AFTER_S = 600
WEST_LAST_BEAT = datetime.fromtimestamp(T + 60, UTC)


def at(offset_s: int) -> datetime:
    return datetime.fromtimestamp(T + offset_s, UTC)


def write_log(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def west_log(path: Path) -> Path:
    """west's queue_log as its daemon last read it: one call over, one caller talking to
    agent 101 since T+12, one caller waiting since T+20."""
    return write_log(path, [
        f"{T}|west-{T}.1|citywide|NONE|ENTERQUEUE||+12125550001|1",
        f"{T + 2}|west-{T}.1|citywide|PJSIP/agent100|CONNECT|2|x1|1",
        f"{T + 9}|west-{T}.1|citywide|PJSIP/agent100|COMPLETECALLER|2|7|1",
        f"{T + 10}|west-{T}.2|citywide|NONE|ENTERQUEUE||+12125550002|1",
        f"{T + 12}|west-{T}.2|citywide|PJSIP/agent101|CONNECT|2|x2|1",
        f"{T + 20}|west-{T}.3|citywide|NONE|ENTERQUEUE||+12125550003|1",
    ])


def main_log(path: Path) -> Path:
    """main's: one caller waiting since T+5 (its daemon is alive: the call is live)."""
    return write_log(path, [f"{T + 5}|{T + 5}.9|citywide|NONE|ENTERQUEUE||+12125550009|1"])


def beat(database: Database, node: str, when: datetime, ok: bool = True,
         **detail: Any) -> None:
    with database.session() as s:
        heartbeat.beat(s, live_store.daemon_component(node), ok, node=node, **detail)
        row = s.get(heartbeat.Heartbeat, live_store.daemon_component(node))
        assert row is not None
        row.updated_at = when


def records(database: Database) -> dict[str, dict[str, Any]]:
    fields = ("outcome", "answered_at", "ended_at", "wait_s", "talk_s", "hangup_side",
              "notes", "agent", "node")
    with database.session() as s:
        return {r.uniqueid: {f: getattr(r, f) for f in fields}
                for r in s.scalars(select(CallRecord))}


@pytest.fixture
def two_nodes(database: Database, tmp_path: Path) -> Database:
    reconcile(database, west_log(tmp_path / "west.log"), node="west")
    reconcile(database, main_log(tmp_path / "main.log"))
    beat(database, "west", WEST_LAST_BEAT)
    return database


def test_a_node_silent_past_the_limit_has_its_open_calls_closed_at_its_last_beat(
        two_nodes: Database, caplog: pytest.LogCaptureFixture) -> None:
    now = WEST_LAST_BEAT + timedelta(seconds=LOST_AFTER_S + 1)
    beat(two_nodes, DEFAULT_NODE, now - timedelta(seconds=2))  # main's daemon is beating
    before = records(two_nodes)
    with caplog.at_level(logging.WARNING, logger="acd.node_lost"):
        assert close_lost_calls(two_nodes, now, LOST_AFTER_S) == {"west": 2}
    after = records(two_nodes)
    note = lost_note("west", WEST_LAST_BEAT)
    assert "west" in note and "2026-05-28 20:27:40 UTC" in note
    assert after[f"west-{T}.2"] == {**before[f"west-{T}.2"],
                                    "outcome": CallOutcome.ANSWERED, "ended_at": WEST_LAST_BEAT,
                                    "talk_s": 48.0, "hangup_side": "system", "notes": note}
    assert after[f"west-{T}.3"] == {**before[f"west-{T}.3"],
                                    "outcome": CallOutcome.DROPPED, "ended_at": WEST_LAST_BEAT,
                                    "wait_s": 40.0, "hangup_side": "system", "notes": note}
    # the finished west call and main's live caller are as they were
    assert after[f"west-{T}.1"] == before[f"west-{T}.1"]
    assert after[f"{T + 5}.9"] == before[f"{T + 5}.9"]
    assert after[f"{T + 5}.9"]["outcome"] is None
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "node west" in caplog.text and "2 open calls closed" in caplog.text

    # idempotent: a second run (and the next minute's) finds nothing and changes nothing
    assert close_lost_calls(two_nodes, now, LOST_AFTER_S) == {}
    assert close_lost_calls(two_nodes, now + timedelta(minutes=1), LOST_AFTER_S) == {}
    assert records(two_nodes) == after


def test_a_node_within_the_limit_is_left_open_and_main_counts_like_any_node(
        two_nodes: Database) -> None:
    almost = WEST_LAST_BEAT + timedelta(seconds=LOST_AFTER_S)  # silent exactly the limit
    beat(two_nodes, DEFAULT_NODE, almost)
    before = records(two_nodes)
    assert close_lost_calls(two_nodes, almost, LOST_AFTER_S) == {}
    assert records(two_nodes) == before

    # much later, both have gone silent: main (heartbeat ``daemon``) is lost too
    later = almost + timedelta(seconds=LOST_AFTER_S + 1)
    assert close_lost_calls(two_nodes, later, LOST_AFTER_S) == {DEFAULT_NODE: 1, "west": 2}
    main_call = records(two_nodes)[f"{T + 5}.9"]
    assert (main_call["outcome"], main_call["ended_at"], main_call["notes"]) == (
        CallOutcome.DROPPED, almost, lost_note(DEFAULT_NODE, almost))


def test_a_call_that_entered_after_the_last_beat_ends_no_earlier_than_it_began(
        database: Database, tmp_path: Path) -> None:
    """The daemon wrote a caller's entry and died before its next beat."""
    reconcile(database, write_log(tmp_path / "q.log", [
        f"{T + 30}|west-{T}.7|citywide|NONE|ENTERQUEUE||+12125550007|1",
        f"{T + 31}|west-{T}.7|citywide|PJSIP/agent100|CONNECT|1|x7|1"]), node="west")
    beat(database, "west", at(29))
    assert close_lost_calls(database, at(29 + LOST_AFTER_S + 1), LOST_AFTER_S) == {"west": 1}
    rec = records(database)[f"west-{T}.7"]
    assert (rec["outcome"], rec["ended_at"], rec["talk_s"]) == (
        CallOutcome.ANSWERED, at(31), 0.0)


def test_when_the_node_returns_its_queue_log_wins(two_nodes: Database, tmp_path: Path) -> None:
    now = WEST_LAST_BEAT + timedelta(seconds=LOST_AFTER_S + 1)
    beat(two_nodes, DEFAULT_NODE, now)
    assert close_lost_calls(two_nodes, now, LOST_AFTER_S) == {"west": 2}
    # west comes back: its Asterisk had kept the calls up while its daemon was gone, and
    # its queue_log says how they really ended
    path = tmp_path / "west.log"
    with path.open("a") as fh:
        fh.write(f"{T + 300}|west-{T}.2|citywide|PJSIP/agent101|COMPLETEAGENT|2|288|1\n"
                 f"{T + 95}|west-{T}.3|citywide|NONE|ABANDON|1|1|75\n")
    done = reconcile(two_nodes, path, node="west")
    assert done.updated == 2
    fixed = records(two_nodes)
    assert {k: fixed[f"west-{T}.2"][k] for k in ("outcome", "ended_at", "talk_s",
                                                  "hangup_side", "notes", "agent")} == {
        "outcome": CallOutcome.ANSWERED, "ended_at": at(300), "talk_s": 288.0,
        "hangup_side": "agent", "notes": None, "agent": "101"}
    assert {k: fixed[f"west-{T}.3"][k] for k in ("outcome", "ended_at", "wait_s",
                                                  "hangup_side", "notes")} == {
        "outcome": CallOutcome.ABANDONED, "ended_at": at(95), "wait_s": 75.0,
        "hangup_side": "caller", "notes": None}
    # its daemon's own close of the calls cut by its Asterisk's restart finds none open
    assert close_cut_calls(two_nodes, at(900), "west") == 0
    assert close_lost_calls(two_nodes, now, LOST_AFTER_S) == {}


def test_without_an_end_in_the_log_the_closure_stands(two_nodes: Database,
                                                      tmp_path: Path) -> None:
    """west's Asterisk died with it (SIGKILL): its log holds no end for those callers."""
    now = WEST_LAST_BEAT + timedelta(seconds=LOST_AFTER_S + 1)
    beat(two_nodes, DEFAULT_NODE, now)
    close_lost_calls(two_nodes, now, LOST_AFTER_S)
    closed = records(two_nodes)
    assert reconcile(two_nodes, tmp_path / "west.log", node="west").updated == 0
    assert close_cut_calls(two_nodes, at(900), "west") == 0
    assert records(two_nodes) == closed
    assert closed[f"west-{T}.3"]["outcome"] == CallOutcome.DROPPED


def test_the_worker_runs_the_rule_and_leaves_calls_no_node_daemon_made(
        database: Database, settings: Settings) -> None:
    """The worker's ``acd.node_lost`` job, on the real clock; a Twilio call on the default
    node (no daemon behind it) is not the lost node's."""
    settings.database_url = database.url
    entered = utcnow() - timedelta(seconds=900)
    with database.session() as s:
        s.add(CallRecord(uniqueid="CAtwilio1", leg=1, queue="citywide", entered_at=entered,
                         acw_s=0.0, source="twilio", node=DEFAULT_NODE))
        s.add(CallRecord(uniqueid="1.1", leg=1, queue="citywide", entered_at=entered,
                         acw_s=0.0, source="ami", node=DEFAULT_NODE))
    beat(database, DEFAULT_NODE, entered + timedelta(seconds=10))
    [job] = [j for j in collect_jobs(settings, database) if j.id == "acd.node_lost"]
    assert settings.node_lost_after_s == 600 and job.seconds == 60
    assert job.func() == {DEFAULT_NODE: 1}
    outcomes = {u: r["outcome"] for u, r in records(database).items()}
    assert outcomes == {"CAtwilio1": None, "1.1": CallOutcome.DROPPED}


def test_a_node_whose_daemon_beats_without_its_asterisk_is_lost_from_then(
        two_nodes: Database) -> None:
    """west's Asterisk died at T+60 and never came back; its daemon is still up, beating
    ``ami_connected`` false."""
    now = WEST_LAST_BEAT + timedelta(seconds=LOST_AFTER_S + 1)
    down = {"ami_connected": False, "ami_down_since": WEST_LAST_BEAT.isoformat()}
    beat(two_nodes, DEFAULT_NODE, now)
    beat(two_nodes, "west", now, ok=True, **down)  # it says it is connected: not lost
    assert close_lost_calls(two_nodes, now, LOST_AFTER_S) == {}
    beat(two_nodes, "west", now, ok=False, **down)
    assert close_lost_calls(two_nodes, now - timedelta(seconds=2), LOST_AFTER_S) == {}
    assert close_lost_calls(two_nodes, now, LOST_AFTER_S) == {"west": 2}
    rec = records(two_nodes)[f"west-{T}.3"]
    assert (rec["outcome"], rec["ended_at"], rec["notes"]) == (
        CallOutcome.DROPPED, WEST_LAST_BEAT, lost_note("west", WEST_LAST_BEAT, How.NO_ASTERISK))
    assert "without its Asterisk" in rec["notes"]
    assert records(two_nodes)[f"{T + 5}.9"]["outcome"] is None  # main's: still live


def test_a_silent_node_whose_last_beat_had_no_asterisk_is_lost_from_that_loss(
        two_nodes: Database) -> None:
    beat(two_nodes, "west", WEST_LAST_BEAT + timedelta(seconds=30), ok=False,
         ami_down_since=WEST_LAST_BEAT.isoformat())  # then its daemon went silent too
    now = WEST_LAST_BEAT + timedelta(seconds=LOST_AFTER_S + 1)
    beat(two_nodes, DEFAULT_NODE, now)
    assert close_lost_calls(two_nodes, now, LOST_AFTER_S) == {"west": 2}
    rec = records(two_nodes)[f"west-{T}.2"]
    assert (rec["ended_at"], rec["talk_s"], rec["notes"]) == (
        WEST_LAST_BEAT, 48.0, lost_note("west", WEST_LAST_BEAT, How.NO_ASTERISK))


def test_the_daemon_beats_since_when_it_is_without_its_asterisk(
        database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(data_dir=str(tmp_path / "data"), ami_port=1, ami_secret="s",
                             agi_port=0, node="west")
    d = Daemon(settings, database, Install(None, tmp_path, tmp_path, tmp_path, tmp_path,
                                           tmp_path))
    monkeypatch.setattr(daemon_module, "HEARTBEAT_EVERY_S", 0.02)

    def detail() -> dict[str, Any]:
        with database.session() as s:
            row = s.get(heartbeat.Heartbeat, "daemon@west")
            return {} if row is None else {"ok": row.ok, "at": row.updated_at,
                                           **json.loads(row.detail)}

    async def beat_where(ok: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first beat seen that ``ok`` accepts (a condition, never a fixed sleep)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if (seen := detail()) and ok(seen):
                return seen
            await asyncio.sleep(0.02)
        raise AssertionError("no such heartbeat within 30 s")

    async def beats() -> list[dict[str, Any]]:
        task = asyncio.create_task(d.heartbeat())
        try:
            down = await beat_where(lambda b: True)  # no AMI yet
            still = await beat_where(lambda b: b["at"] > down["at"])  # a later beat, still none
            d.bridge.connected.set()
            up = await beat_where(lambda b: b["ok"])
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return [down, still, up]

    before = utcnow().replace(microsecond=0)
    try:
        down, still, up = asyncio.run(beats())
    finally:
        d.writer.shutdown(wait=True)
    assert (down["ok"], up["ok"]) == (False, True)
    since = datetime.fromisoformat(down["ami_down_since"])
    assert before <= since <= utcnow() and still["ami_down_since"] == down["ami_down_since"]
    assert up["ami_down_since"] is None
