"""A daemon that starts while agents are logged in and callers wait sees them at once
(QueueStatus snapshot), and forgets what ended while it was away."""

from __future__ import annotations

import json

import pytest

from acd import live_store
from foundation.db import Database
from tests.support.pbx import Pbx, running_daemon, wait_until

pytestmark = pytest.mark.asterisk


def board(db: Database) -> dict:  # type: ignore[type-arg]
    with db.session() as s:
        return live_store.board(s)[1]


def test_snapshot_on_start(clean_pbx: Pbx, sqlite_db: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    clean_pbx.add_agent("100", ["citywide"], ring_ms=300, talk_ms=60000)  # busy with caller 1
    clean_pbx.add_agent("101", ["citywide", "noise"])
    clean_pbx.rx("queue pause member PJSIP/agent101 queue citywide reason lunch")
    clean_pbx.rx("queue pause member PJSIP/agent101 queue noise reason lunch")
    callers = clean_pbx.call(calls=2, rate=5, hold_ms=30000, number="queue-citywide")
    wait_until(lambda: "has 1 calls" in clean_pbx.rx("queue show citywide")
               and "In use" in clean_pbx.rx("queue show citywide"), 10,
               what="one caller talking and one waiting")
    with running_daemon(clean_pbx, sqlite_db.url, tmp_path / "daemon.log"):
        def seen() -> dict | None:  # type: ignore[type-arg]
            b = board(sqlite_db)
            agents = {a["agent"]: a for a in b.get("agents", [])}
            return b if {"100", "101"} <= set(agents) and b["queues"].get("citywide") else None

        b = wait_until(seen, 15, what="the snapshot on the live board")
        agents = {a["agent"]: a for a in b["agents"]}
        assert agents["101"]["state"] == "paused"
        assert agents["101"]["pause_reason"] == {"citywide": "lunch", "noise": "lunch"}
        assert sorted(agents["101"]["queues"]) == ["citywide", "noise"]
        assert len(b["queues"]["citywide"]) == 1, json.dumps(b)
        assert agents["100"]["state"] == "on_call"
    callers.stop()


def test_web_commands_reach_asterisk(clean_pbx: Pbx, sqlite_db: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Commands queued as the web queues them are carried out by the daemon through AMI."""
    from acd.models import AgentCommand

    clean_pbx.add_agent("102", [])
    names = clean_pbx.settings.queue_names()

    def ask(action: str, queue: str | None = None, reason: str = "") -> int:
        with sqlite_db.session() as s:
            return live_store.request_command(s, "sup1", action, "102", queue, reason, names).id

    def result(cid: int) -> AgentCommand | None:
        with sqlite_db.session() as s:
            c = s.get(AgentCommand, cid)
            return c if c is not None and c.status != "pending" else None

    def run(action: str, queue: str | None = None, reason: str = "") -> AgentCommand:
        cid = ask(action, queue, reason)
        return wait_until(lambda: result(cid), 10, what=f"{action} carried out")  # type: ignore[no-any-return]

    def agent(b: dict) -> dict | None:  # type: ignore[type-arg]
        return next((a for a in b.get("agents", []) if a["agent"] == "102"), None)

    with running_daemon(clean_pbx, sqlite_db.url, tmp_path / "daemon.log"):
        done = run("login", "sanitation")
        assert done.status == "done", done.detail
        assert "agent102" in clean_pbx.rx("queue show sanitation")
        wait_until(lambda: (a := agent(board(sqlite_db))) and a["state"] == "available", 5,
                   what="available on the board")
        done = run("pause", None, "training")
        assert done.status == "done", done.detail
        assert "paused:training" in clean_pbx.rx("queue show sanitation").replace(" ", "")
        a = wait_until(lambda: (a := agent(board(sqlite_db))) and a["state"] == "paused" and a,
                       5, what="paused on the board")
        assert a["pause_reason"] == {"sanitation": "training"}
        assert run("unpause").status == "done"
        assert run("logout").status == "done"
        assert "agent102" not in clean_pbx.rx("queue show sanitation")
        failed = run("logout", "noise")
        assert failed.status == "failed" and "not logged in" in failed.detail
