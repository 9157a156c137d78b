"""``civic311 calls import``: a queue_log written by another Asterisk becomes call records
(checked against the independent reading in tests/support/truth.py) and rollups that give
the same figures as the records; importing again, or in other chunk sizes, changes nothing."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from acd import rollup
from acd.facts import call_facts
from acd.log_import import import_history
from acd.metrics import combine, summarize
from acd.models import CallRecord, RingAttempt
from center import schema
from center.cli import cli
from foundation.db import Database
from tests.support.truth import truth

DAY0 = datetime(2025, 3, 3, 13, 0, tzinfo=UTC)  # a Monday, 8 a.m. in New York


def synthetic_log(days: int = 3, per_day: int = 60, seed: int = 7) -> list[str]:
    """queue_log lines as app_queue (and our dialplan) write them, calls interleaved in time."""
    rng = random.Random(seed)
    events: list[tuple[int, int, str]] = []
    n = 0
    for d in range(days):
        for _ in range(per_day):
            n += 1
            t = int((DAY0 + timedelta(days=d, seconds=rng.randrange(9 * 3600))).timestamp())
            uid, queue = f"{t}.{n}", rng.choice(["citywide", "sanitation"])
            caller, agent = f"+1212555{n:04d}", f"PJSIP/agent{rng.choice([100, 101, 102])}"
            kind = rng.choices(["answered", "abandoned", "timeout", "exit_key", "refused",
                                "transfer"], [60, 15, 8, 7, 5, 5])[0]

            def line(at: int, ag: str, ev: str, *data: object, uid: str = uid,
                     queue: str = queue) -> None:
                events.append((at, len(events), "|".join([str(at), uid, queue, ag, ev,
                                                          *map(str, data)])))

            if kind == "refused":
                line(t, "NONE", "REFUSED", "JOINEMPTY", caller, "menu:none")
                continue
            line(t, "NONE", "ENTERQUEUE", "menu:2", caller, 1)
            wait = rng.randrange(1, 120)
            if kind in ("answered", "transfer"):
                if rng.random() < 0.3:
                    line(t + wait // 2, agent, "RINGNOANSWER", 15000)
                line(t + wait, agent, "CONNECT", wait, f"{t}.{n}9", 2)
                talk = rng.randrange(20, 600)
                if kind == "transfer":
                    line(t + wait + talk, agent, "BLINDTRANSFER", "2000", "civic311-agents",
                         wait, talk, 1)
                else:
                    side = rng.choice(["COMPLETECALLER", "COMPLETEAGENT"])
                    line(t + wait + talk, agent, side, wait, talk, 1)
            elif kind == "abandoned":
                line(t + wait, "NONE", "ABANDON", 1, 1, wait)
            elif kind == "timeout":
                line(t + wait, "NONE", "EXITWITHTIMEOUT", 1, 1, wait)
            else:
                line(t + wait, "NONE", "EXITWITHKEY", "1", 1, 1, wait)
    events.append((int(DAY0.timestamp()), -1, f"{int(DAY0.timestamp())}|CLI|citywide|"
                   "PJSIP/agent100|ADDMEMBER|"))
    return [text + "\n" for _, _, text in sorted(events)]


def records(db: Database) -> dict[str, CallRecord]:
    with db.session() as s:
        return {r.uniqueid: r for r in s.scalars(select(CallRecord))}


def test_import_rebuilds_every_call_and_its_rollups(database: Database, tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_text("".join(synthetic_log()))
    data = tmp_path / "data"
    run = lambda: CliRunner().invoke(cli, [  # noqa: E731
        "--data-dir", str(data), "--database-url", database.url,
        "calls", "import", "--queue-log", str(log), "--json"])

    res = run()
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    expected = truth(log)
    assert got["created"] == len(expected) and got["updated"] == 0
    recs = records(database)
    assert set(recs) == set(expected)
    for uid, want in expected.items():
        rec = recs[uid]
        assert (rec.queue, rec.outcome, rec.wait_s, rec.talk_s) == (
            want["queue"], want["outcome"], want["wait_s"], want["talk_s"]), uid
        assert rec.agent == (want["agent"].removeprefix("PJSIP/agent")  # type: ignore[union-attr]
                             if want["agent"] else None), uid
        assert rec.caller_number == want["caller"] and rec.source == "queue_log", uid
    transferred = [r for r in recs.values() if r.hangup_side == "transfer"]
    assert transferred and all(r.transfer_target == "2000" for r in transferred)

    # the rollups the import wrote sum to what the records say over the whole span
    start, end = DAY0 - timedelta(days=1), DAY0 + timedelta(days=4)
    with database.session() as s:
        direct = summarize(call_facts(s, start, end), (30, 60), 5).as_dict()
        rows = rollup.intervals(s, start, end, 60, None, (30, 60))
        rings = s.scalar(select(func.count(RingAttempt.id)))
    rolled = combine([m for _, m in rows]).as_dict()
    for key in ("offered", "answered", "abandoned", "short_abandoned", "timed_out", "exit_key",
                "refused", "service_level", "asa_s", "aht_s", "longest_wait_s"):
        assert rolled[key] == direct[key], key
    assert direct["offered"] == len(expected)

    again = run()  # idempotent: the same file again changes nothing, not even ring attempts
    assert json.loads(again.output)["created"] == 0 and json.loads(again.output)["updated"] == 0
    with database.session() as s:
        assert s.scalar(select(func.count(RingAttempt.id))) == rings
        assert s.scalar(select(func.count(CallRecord.id))) == len(expected)


def test_chunk_size_does_not_change_the_records(database: Database, tmp_path: Path) -> None:
    """Streamed in chunks of 7 lines (calls cut across chunks) or in one: the same records."""
    log = tmp_path / "queue_log"
    log.write_text("".join(synthetic_log(days=1, per_day=40, seed=3)))
    small = import_history(database, log, None, (30,), 5, chunk_lines=7)
    (tmp_path / "whole").mkdir()
    apart = Database(f"sqlite:///{tmp_path / 'whole' / 'test.db'}")
    schema.upgrade(apart)
    whole = import_history(apart, log, None, (30,), 5, chunk_lines=100_000)
    assert small.created == whole.created == len(truth(log))
    fields = ("queue", "outcome", "wait_s", "talk_s", "agent", "answered_at", "ended_at",
              "entered_at", "caller_number", "position", "ivr_path", "hangup_side")

    def view(db: Database) -> dict[str, tuple[object, ...]]:
        with db.session() as s:
            rows = {r.uniqueid: tuple(getattr(r, f) for f in fields) + (
                sorted((a.agent, a.outcome, a.ring_ms) for a in r.rings),)
                for r in s.scalars(select(CallRecord))}
        return rows

    assert view(database) == view(apart)
    apart.dispose()


def test_a_log_that_starts_mid_call(database: Database, tmp_path: Path) -> None:
    """The file's first lines belong to a call that joined before it: the call is still
    recorded from its end (entry time from its own figures, its ring attempts kept); a
    call with no join and no end in the file is left out rather than guessed."""
    t = int(DAY0.timestamp())
    log = tmp_path / "queue_log"
    log.write_text("".join(f"{line}\n" for line in [
        f"{t}|{t - 30}.1|citywide|PJSIP/agent100|RINGNOANSWER|15000",
        f"{t + 5}|{t - 30}.1|citywide|PJSIP/agent101|CONNECT|35|{t}.9|3",
        f"{t + 65}|{t - 30}.1|citywide|PJSIP/agent101|COMPLETEAGENT|35|60|1",
        f"{t + 70}|{t - 90}.2|citywide|PJSIP/agent102|CONNECT|160|{t}.8|1",
    ]))
    got = import_history(database, log, None, (30,), 5)
    assert (got.lines, got.created) == (4, 1)
    rec = records(database)[f"{t - 30}.1"]
    assert (rec.outcome, rec.agent, rec.wait_s, rec.talk_s) == ("answered", "101", 35.0, 60.0)
    assert rec.answered_at == datetime.fromtimestamp(t + 5, UTC)
    assert rec.entered_at == datetime.fromtimestamp(t + 5 - 35, UTC)
    with database.session() as s:
        assert sorted((a.agent, a.outcome) for a in s.scalars(select(RingAttempt))) == [
            ("100", "noanswer"), ("101", "connected")]


def test_a_missing_file_is_a_clear_error(tmp_path: Path, database: Database) -> None:
    res = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "d"), "--database-url",
                                   database.url, "calls", "import", "--queue-log",
                                   str(tmp_path / "nope")])
    assert res.exit_code == 2 and "does not exist" in res.output
    assert records(database) == {}


def test_the_19_call_day_imported_gives_the_same_figures(database: Database,
                                                        tmp_path: Path) -> None:
    """Issue 13's day as Asterisk would log it (8 answered within 30 s, 5 refused, 5 timed
    out, 1 abandoned), imported and reported through the CLI: the strict figures of
    tests/unit/acd/test_definitions.py, with the definitions named."""
    t0 = int(DAY0.timestamp())
    lines = []
    for i, wait in enumerate((5, 8, 10, 15, 20, 22, 28, 30)):
        uid, t = f"{t0 + i * 60}.{i}", t0 + i * 60
        lines += [f"{t}|{uid}|citywide|NONE|ENTERQUEUE|menu:0|+1212555010{i}|1",
                  f"{t + wait}|{uid}|citywide|PJSIP/agent100|CONNECT|{wait}|{uid}9|1",
                  f"{t + wait + 120}|{uid}|citywide|PJSIP/agent100|COMPLETECALLER|{wait}|120|1"]
    for i in range(5):
        t = t0 + 1200 + i * 60
        lines.append(f"{t}|{t}.{20 + i}|citywide|NONE|REFUSED|JOINEMPTY|+1718555020{i}|menu:0")
    for i in range(5):
        uid, t = f"{t0 + 2400 + i * 60}.{40 + i}", t0 + 2400 + i * 60
        lines += [f"{t}|{uid}|citywide|NONE|ENTERQUEUE|menu:0|+1646555030{i}|1",
                  f"{t + 600}|{uid}|citywide|NONE|EXITWITHTIMEOUT|1|1|600"]
    t = t0 + 3540
    lines += [f"{t}|{t}.59|citywide|NONE|ENTERQUEUE|menu:0|+13475550400|1",
              f"{t + 45}|{t}.59|citywide|NONE|ABANDON|1|1|45"]
    log = tmp_path / "queue_log"
    log.write_text("".join(f"{line}\n" for line in sorted(lines)))
    base = ["--data-dir", str(tmp_path / "data"), "--database-url", database.url]
    res = CliRunner().invoke(cli, [*base, "calls", "import", "--queue-log", str(log)])
    assert res.exit_code == 0 and "19 calls created" in res.output, res.output

    res = CliRunner().invoke(cli, [*base, "report", "calls", "--from", "2025-03-03T00:00:00Z",
                                   "--to", "2025-03-04T00:00:00Z", "--json"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    assert (got["offered"], got["answered"], got["refused"], got["timed_out"],
            got["abandoned"], got["not_served"]) == (19, 8, 5, 5, 1, 6)
    assert got["service_level"]["30"] == 0.5714  # 8 / 14 who entered a queue
    assert (got["abandon_rate"], got["refused_rate"]) == (0.3158, 0.2632)  # 6/19, 5/19
    assert got["asa_s"] == 17.25
    assert got["definitions"]["service_level"]["name"] == "entered_queue"
    assert got["goals"]["service_level"]["met"] is False
    assert got["goals"]["abandon_rate"]["met"] is False and got["goals"]["asa_s"]["met"] is True
