"""Transfers in the records without a PBX: queue_log lines Asterisk 22 wrote for real
transfers (tests/integration/test_transfer_pbx.py) replayed through reconciliation, the
referral directory and the agent's transfer page and action."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from acd.models import AgentCommand, CallRecord
from acd.reconcile import apply_log
from foundation.db import Database
from tests import conftest as c
from tests.support.truth import record_key, truth

# a desk phone's REFER into the noise queue: two queued calls of one uniqueid
REFER = """\
1796173418|CLI|citywide|100|ADDMEMBER|
1796173423|1796173419.5|citywide|NONE|ENTERQUEUE|menu:none|+12125550143|1
1796173423|1796173419.5|citywide|100|CONNECT|0|1796173423.6|0
1796173424|1796173419.5|citywide|100|BLINDTRANSFER|queue-noise|civic311-agents|0|1|1
1796173424|1796173419.5|noise|NONE|ENTERQUEUE|transfer|+12125550143|1
1796173425|1796173419.5|noise|101|CONNECT|1|1796173424.7|0
1796173426|1796173419.5|noise|101|COMPLETEAGENT|1|1|1
"""
# Atxfer to agent 101, then a blind referral to 211
OTHERS = """\
1796173584|1796173580.0|citywide|NONE|ENTERQUEUE|menu:none|+12125550142|1
1796173584|1796173580.0|citywide|100|CONNECT|0|1796173584.1|0
1796173589|1796173580.0|citywide|100|ATTENDEDTRANSFER|BRIDGE|5c655b9b-9131-401c|0|5|1
1796173309|1796173306.2|citywide|NONE|ENTERQUEUE|menu:none|+12125550144|1
1796173309|1796173306.2|citywide|100|CONNECT|0|1796173309.3|0
1796173310|1796173306.2|citywide|100|BLINDTRANSFER|ref-211|civic311-transfer|0|1|1
"""


def records(db: Database) -> dict[str, CallRecord]:
    with db.session() as s:
        return {record_key(r.uniqueid, r.leg): r for r in s.scalars(select(CallRecord))}


def test_a_transfer_into_a_queue_is_a_second_leg_and_replays_idempotently(
        database: Database, tmp_path: Any) -> None:
    log = tmp_path / "queue_log"
    log.write_text(REFER + OTHERS)
    assert apply_log(database, log.read_text().splitlines()) == (4, 0)
    assert apply_log(database, log.read_text().splitlines()) == (0, 0)  # a re-read changes nothing
    got, want = records(database), truth(log)
    assert set(got) == set(want) == {"1796173419.5", "1796173419.5#2", "1796173580.0",
                                     "1796173306.2"}
    for key, w in want.items():
        r = got[key]
        assert (r.queue, r.outcome, r.agent, r.wait_s, r.talk_s) == (
            w["queue"], w["outcome"], w["agent"], w["wait_s"], w["talk_s"])
    one, two = got["1796173419.5"], got["1796173419.5#2"]
    assert (one.hangup_side, one.transfer_target, one.transfer_kind) == (
        "transfer", "queue-noise", "blind")
    assert (two.leg, two.ivr_path, two.hangup_side) == (2, "transfer", "agent")
    att = got["1796173580.0"]
    assert (att.transfer_kind, att.talk_s, att.hangup_side) == ("attended", 5.0, "transfer")
    ref = got["1796173306.2"]
    assert (ref.transfer_target, ref.call_type) == ("ref-211", "referral")


def test_referral_directory_page_cli_and_the_agents_transfer(
        app: Any, users: dict[str, str], database: Database) -> None:
    from center.cli import cli

    admin = app.test_client()
    c.login(admin, users["admin"])
    token = c.csrf_token(admin, "/admin/referrals")
    admin.post("/admin/referrals", data={"name": "United Way 211", "number": "2-1-1",
                                         "note": "social services", "csrf_token": token})
    bad = admin.post("/admin/referrals", data={"name": "Nope", "number": "call me",
                                               "csrf_token": token}, follow_redirects=True)
    assert "not a phone number" in bad.get_data(as_text=True)
    page = admin.get("/admin/referrals").get_data(as_text=True)
    assert "United Way 211" in page and ">211<" in page and "Nope" not in page

    env = {"DATABASE_URL": database.url}
    out = CliRunner().invoke(cli, ["referral", "add", "Poison Control", "+18002221222"], env=env)
    assert out.exit_code == 0, out.output
    listed = CliRunner().invoke(cli, ["referral", "list", "--json"], env=env)
    assert "Poison Control" in listed.output and "United Way 211" in listed.output
    assert CliRunner().invoke(cli, ["referral", "add", "Poison Control", "911"],
                              env=env).exit_code != 0  # the name is taken: nothing stored

    agent = app.test_client()
    c.login(agent, users["agent"])  # extension 100
    assert agent.get("/agent/transfer").status_code == 200
    token = c.csrf_token(agent, "/agent/transfer")
    headers = {"X-CSRFToken": token}
    ok = agent.post("/api/v1/agents/100/transfer", json={
        "kind": "blind", "target": "referral", "value": "211"}, headers=headers)
    assert ok.status_code == 202, ok.get_data(as_text=True)
    for body, why in (({"kind": "attended", "target": "queue", "value": "citywide"}, "blind"),
                      ({"kind": "blind", "target": "referral", "value": "5551234"}, "directory"),
                      ({"kind": "blind", "target": "agent", "value": "100"}, "other agent")):
        r = agent.post("/api/v1/agents/100/transfer", json=body, headers=headers)
        assert r.status_code == 400 and why in r.get_json()["description"], r.get_json()
    other = agent.post("/api/v1/agents/101/transfer", headers=headers, json={
        "kind": "blind", "target": "queue", "value": "citywide"})
    assert other.status_code == 403
    with database.session() as s:
        cmds = list(s.scalars(select(AgentCommand)))
        assert [(x.action, x.agent, x.target, x.status) for x in cmds] == [
            ("xfer_blind", "100", "ref-211", "pending")]


def test_the_log_agrees_with_what_the_live_stream_recorded(database: Database) -> None:
    """AMI's events of the REFER call (finer clock), then the same call's queue_log lines:
    the log finds both legs and corrects nothing."""
    from datetime import UTC, datetime

    from acd import events as ev
    from acd.recorder import Recorder

    def t(s: float) -> datetime:
        return datetime.fromtimestamp(s, UTC)

    uid = "1796173419.5"
    Recorder(database).apply_batch([
        ev.IvrPathSet(t(1796173423.2), uid, "menu:none"),
        ev.CallerJoined(t(1796173423.3), uid, uid, "PJSIP/trunk-1", "citywide", 1,
                        "+12125550143", ""),
        ev.CallAnswered(t(1796173423.6), uid, "citywide", "100", 0, 0),
        ev.CallTransferred(t(1796173424.7), uid, "queue-noise", "blind"),
        ev.CallCompleted(t(1796173424.7), uid, "citywide", "100", 0, 1, "transfer"),
        ev.IvrPathSet(t(1796173424.8), uid, "transfer"),
        ev.CallerJoined(t(1796173424.8), uid, uid, "PJSIP/trunk-1", "noise", 1,
                        "+12125550143", ""),
        ev.CallAnswered(t(1796173425.6), uid, "noise", "101", 1, 0),
        ev.CallCompleted(t(1796173426.6), uid, "noise", "101", 1, 1, "agent"),
    ])
    got = records(database)
    assert set(got) == {uid, f"{uid}#2"}
    assert (got[f"{uid}#2"].ivr_path, got[uid].transfer_target) == ("transfer", "queue-noise")
    assert apply_log(database, REFER.splitlines()) == (0, 0)


def test_migration_0304_keeps_each_call_as_leg_1_and_goes_back(tmp_path: Any) -> None:
    import sqlalchemy as sa
    from alembic import command

    from center.schema import alembic_config

    url = f"sqlite:///{tmp_path / 'm.db'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, "0303_spans_ended_index")
    engine = sa.create_engine(url)
    row = ("INSERT INTO call_records (uniqueid, {leg}queue, entered_at, acw_s, source) "
           "VALUES ('1.1', {n}'{q}', '2026-01-01 00:00:00', 0, 'ami')")
    with engine.begin() as conn:
        conn.execute(sa.text(row.format(leg="", n="", q="citywide")))
    command.upgrade(cfg, "0304_call_legs_transfers")
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT uniqueid, leg FROM call_records")).all() == [
            ("1.1", 1)]
        conn.execute(sa.text(row.format(leg="leg, ", n="2, ", q="noise")))  # a second entry
    command.downgrade(cfg, "0303_spans_ended_index")  # back to one record per uniqueid
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT uniqueid, queue FROM call_records")).all() == [
            ("1.1", "citywide")]
    engine.dispose()


def test_a_live_transfer_reported_after_the_callers_next_entry_ends_the_first(
        database: Database) -> None:
    """A desk phone's REFER: Asterisk can report the caller's entry into the next queue
    before the BlindTransfer event (it names no queue): the transfer is the answered leg's."""
    from datetime import UTC, datetime, timedelta

    from acd import events as ev
    from acd.recorder import Recorder

    t0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)

    def at(s: float) -> datetime:
        return t0 + timedelta(seconds=s)

    r = Recorder(database)
    r.apply_batch([ev.CallerJoined(at(0), "1.5", "1.5", "PJSIP/c-1", "citywide", 1, "", ""),
                   ev.CallAnswered(at(2), "1.5", "citywide", "100", 2, 1)])
    r.apply_batch([ev.CallerJoined(at(4), "1.5", "1.5", "PJSIP/c-1", "noise", 1, "", ""),
                   ev.CallTransferred(at(4), "1.5", "queue-noise"),
                   ev.CallCompleted(at(4), "1.5", "citywide", "100", 2, 2, "transfer")])
    got = records(database)
    one, two = got["1.5"], got["1.5#2"]
    assert (one.queue, one.transfer_target, one.transfer_kind, one.hangup_side) == (
        "citywide", "queue-noise", "blind", "transfer")
    assert (two.queue, two.transfer_target, two.ended_at) == ("noise", None, None)
