"""Transfers on the real Asterisk: from the desktop (AMI BlindTransfer / Atxfer, queued as
agent commands the daemon carries out) and from a desk phone (SIP REFER), to a queue, to an
agent and to an outside referral number (a SIPp phone at ``referral_uri``).

QueueMetrics' rules are the reference: the queued call's talk time ends at the transfer
(queue_log's BLINDTRANSFER / ATTENDEDTRANSFER calltime), and a caller transferred into a
queue is a new queued call there, its own record (leg 2 of the same uniqueid).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from acd import live_store
from acd.models import AgentCommand, CallRecord
from acd.queries import raw_summary
from acd.states import CommandKind
from acd.transfer import TargetKind
from foundation.db import Database, utcnow
from recordings.catalog import CONSULT_SUFFIX, GRACE_S, SETTLE_S, Paths, catalog
from recordings.models import Recording
from telephony import sipp
from tests.support.pbx import REFERRAL_PORT, DaemonProc, Pbx, wait_until
from tests.support.truth import record_key, truth, truth_metrics

pytestmark = pytest.mark.asterisk


def legs(db: Database) -> list[CallRecord]:
    with db.session() as s:
        return list(s.scalars(select(CallRecord).order_by(CallRecord.entered_at,
                                                          CallRecord.leg)))


def answered_by(db: Database, agent: str) -> CallRecord | None:
    return next((r for r in legs(db) if r.agent == agent and r.answered_at and not r.ended_at),
                None)


def finished(db: Database, n: int) -> list[CallRecord] | None:
    rows = [r for r in legs(db) if r.outcome is not None and r.ended_at is not None]
    return rows if len(rows) == n else None


def transfer(db: Database, pbx: Pbx, agent: str, kind: CommandKind, target: TargetKind,
             value: str) -> AgentCommand:
    """What the desktop's transfer button does: queue the command; wait for the daemon."""
    with db.session() as s:
        cid = live_store.request_transfer(
            s, "agent" + agent, agent, kind, target, value, pbx.settings.queue_names(),
            pbx.settings.agent_extensions).id

    def done() -> AgentCommand | None:
        with db.session() as s:
            c = s.get(AgentCommand, cid)
            return c if c is not None and c.status != "pending" else None

    cmd: AgentCommand = wait_until(done, 15, what="the daemon to carry out the transfer")
    assert cmd.status == "done", cmd.detail
    return cmd


def assert_matches_log(pbx: Pbx, records: list[CallRecord]) -> dict[str, dict[str, object]]:
    """Every record equals queue_log's call for call, legs included (the ACD truth rule)."""
    logged = truth(pbx.queue_log)
    assert {record_key(r.uniqueid, r.leg) for r in records} == set(logged), pbx.queue_log_events()
    for r in records:
        want = logged[record_key(r.uniqueid, r.leg)]
        assert (r.queue, r.outcome, r.agent) == (want["queue"], want["outcome"], want["agent"])
        assert (r.wait_s, r.talk_s) == (want["wait_s"], want["talk_s"]), (r.leg, want)
    return logged


def summary(db: Database, queue: str):  # type: ignore[no-untyped-def]
    now = utcnow()
    with db.session() as s:
        return raw_summary(s, now - timedelta(hours=1), now + timedelta(minutes=1), queue,
                           [30, 60], 5)


def test_desktop_blind_transfer_to_a_queue_is_a_new_queued_call(
        clean_pbx: Pbx, daemon: DaemonProc, database: Database) -> None:
    clean_pbx.add_agent("100", ["citywide"], ring_ms=300, talk_ms=20000)
    clean_pbx.add_agent("101", ["noise"], ring_ms=300, talk_ms=1500)
    caller = clean_pbx.call(calls=1, hold_ms=40000, caller_numbers=["+12125550141"])
    first = wait_until(lambda: answered_by(database, "100"), 20, what="agent 100 to answer")
    transfer(database, clean_pbx, "100", CommandKind.BLIND_TRANSFER, TargetKind.QUEUE, "noise")
    assert (caller.wait(60).successful, caller.counts()[1]) == (1, 0)

    one, two = wait_until(lambda: finished(database, 2), 15, what="both legs' records")
    assert (one.uniqueid, one.leg, two.uniqueid, two.leg) == (first.uniqueid, 1,
                                                              first.uniqueid, 2)
    assert (one.queue, one.hangup_side, one.transfer_target, one.transfer_kind) == (
        "citywide", "transfer", "queue-noise", "blind")
    assert one.transferred_at is not None and one.ended_at is not None
    assert abs((one.transferred_at - one.ended_at).total_seconds()) < 1.5
    assert (two.queue, two.agent, two.ivr_path, two.transfer_target) == (
        "noise", "101", "transfer", None)
    assert two.entered_at >= one.transferred_at - timedelta(seconds=1)
    assert_matches_log(clean_pbx, [one, two])
    # QueueMetrics: each queue counts its own answered call; talk ends at the transfer
    a, b = summary(database, "citywide"), summary(database, "noise")
    assert (a.offered, a.answered, b.offered, b.answered) == (1, 1, 1, 1)
    assert a.total_handle_s == one.talk_s and b.total_handle_s == two.talk_s
    whole = truth_metrics(truth(clean_pbx.queue_log), 5, (30,))
    assert (whole["offered"], whole["answered"]) == (2, 2)


def test_desktop_attended_transfer_to_an_agent(clean_pbx: Pbx, daemon: DaemonProc,
                                               database: Database) -> None:
    """Atxfer: agent 100's phone calls 101 while the caller hears music; 100 hangs up and the
    caller talks to 101. One queued call, its talk time ending at the transfer."""
    # 100 talks 10 s: time for the test to see the call answered and ask for the transfer
    # on a busy machine
    clean_pbx.add_agent("100", ["citywide"], ring_ms=300, talk_ms=10000)
    # registered, in no queue; talks past 100's hang-up (a hang-up of 101 first cancels)
    clean_pbx.phone("101", ring_ms=300, talk_ms=16000, speech=sipp.SPEECH_PCAP)
    caller = clean_pbx.call(calls=1, hold_ms=40000, caller_numbers=["+12125550142"])
    first = wait_until(lambda: answered_by(database, "100"), 20, what="agent 100 to answer")
    transfer(database, clean_pbx, "100", CommandKind.ATTENDED_TRANSFER, TargetKind.AGENT, "101")
    assert (caller.wait(60).successful, caller.counts()[1]) == (1, 0)

    (rec,) = wait_until(lambda: finished(database, 1), 15, what="the call's record")
    assert rec.uniqueid == first.uniqueid
    assert (rec.outcome, rec.hangup_side, rec.transfer_target, rec.transfer_kind) == (
        "answered", "transfer", "agent-101", "attended")
    logged = assert_matches_log(clean_pbx, [rec])
    # app_queue logs the end as ATTENDEDTRANSFER, or as COMPLETEAGENT when it handles the
    # agent channel's hang-up before the bridge's transfer (its two subscriptions race; seen
    # once in a loaded run): either way one end, and the record says transfer from AMI
    ends = [e for e in clean_pbx.queue_log_events() if e in ("ATTENDEDTRANSFER", "COMPLETEAGENT")]
    assert len(ends) == 1, logged
    # 100 talked ~10 s (the consultation included), then the call was 101's, not queued
    assert rec.talk_s is not None and 8 <= rec.talk_s <= 12, rec.talk_s
    assert summary(database, "citywide").answered == 1
    # the consultation is recorded on 101's channel, and goes on as the caller with 101
    assert_consultation_catalogued(clean_pbx, database, rec)


def assert_consultation_catalogued(pbx: Pbx, database: Database, rec: CallRecord) -> None:
    """Both recordings of an attended transfer's call, catalogued once with the call: the
    queue call's (agent 100's channel; how much audio it holds is the phones' affair) and
    the consultation's (101's channel: 101 talks ~7 s)."""
    consult = pbx.install.spool_dir / "monitor" / "civic311" / f"{rec.uniqueid}{CONSULT_SUFFIX}.wav"
    wait_until(consult.exists, 10, what=f"the consultation's recording {consult}")
    paths = Paths(pbx.settings.data_dir, pbx.install.spool_dir)

    def catalogued() -> dict[str, int] | None:
        later = utcnow() + timedelta(seconds=GRACE_S + SETTLE_S + 1)
        with database.session() as s:
            counts = catalog(s, paths, pbx.settings.queue_names(), later)
        return dict(counts) if counts else None

    # MixMonitor closes the file when 101's channel hangs up: until then it is still written
    assert sum(wait_until(catalogued, 10, what="the recordings catalogued").values()) == 2
    with database.session() as s:
        rows = {r.uniqueid: r for r in s.scalars(select(Recording))}
        assert set(rows) == {rec.uniqueid, rec.uniqueid + CONSULT_SUFFIX}
        kept = rows[rec.uniqueid + CONSULT_SUFFIX]
        assert (kept.call_id, kept.queue, kept.agent) == (rec.id, "citywide", "101")
        assert kept.status == "ok" and kept.duration_s is not None and kept.duration_s > 5
        assert rows[rec.uniqueid].agent == "100"
        later = utcnow() + timedelta(seconds=GRACE_S + SETTLE_S + 1)
        assert catalog(s, paths, pbx.settings.queue_names(), later) == {}  # once
    assert not consult.exists()


def test_desk_phone_refer_is_a_blind_transfer(clean_pbx: Pbx, daemon: DaemonProc,
                                              database: Database) -> None:
    clean_pbx.add_agent("100", ["citywide"], ring_ms=300, talk_ms=20000,
                        refer=(1500, "queue-noise"))
    clean_pbx.add_agent("101", ["noise"], ring_ms=300, talk_ms=1500)
    caller = clean_pbx.call(calls=1, hold_ms=40000, caller_numbers=["+12125550143"])
    assert (caller.wait(60).successful, caller.counts()[1]) == (1, 0)

    one, two = wait_until(lambda: finished(database, 2), 15, what="both legs' records")
    assert (one.leg, one.queue, one.agent, one.hangup_side) == (1, "citywide", "100", "transfer")
    assert (one.transfer_target, one.transfer_kind) == ("queue-noise", "blind")
    assert (two.leg, two.queue, two.agent, two.outcome) == (2, "noise", "101", "answered")
    assert_matches_log(clean_pbx, [one, two])
    assert "BLINDTRANSFER" in clean_pbx.queue_log_events()


def test_referral_to_an_outside_number(clean_pbx: Pbx, daemon: DaemonProc,
                                       database: Database) -> None:
    """Blind to a referral number: out through referral_uri (a SIPp phone standing in for
    the outside line); the call counts as the call type ``referral``."""
    outside = sipp.agent_phone_uas(REFERRAL_PORT, ring_ms=200, talk_ms=2000)
    try:
        clean_pbx.add_agent("100", ["citywide"], ring_ms=300, talk_ms=20000)
        caller = clean_pbx.call(calls=1, hold_ms=40000, caller_numbers=["+12125550144"])
        wait_until(lambda: answered_by(database, "100"), 20, what="agent 100 to answer")
        transfer(database, clean_pbx, "100", CommandKind.BLIND_TRANSFER, TargetKind.REFERRAL,
                 "211")
        assert (caller.wait(60).successful, caller.counts()[1]) == (1, 0)
        wait_until(lambda: "rung" in outside.events(), 10, what="the outside number to ring")
    finally:
        outside.stop()
    (rec,) = wait_until(lambda: finished(database, 1), 15, what="the call's record")
    assert (rec.transfer_target, rec.transfer_kind, rec.hangup_side) == (
        "ref-211", "blind", "transfer")
    assert_matches_log(clean_pbx, [rec])
    with database.session() as s:
        assert s.get(CallRecord, rec.id).call_type == "referral"  # type: ignore[union-attr]
    assert summary(database, "citywide").answered == 1



def test_desk_phone_refer_with_replaces_is_an_attended_transfer(
        clean_pbx: Pbx, daemon: DaemonProc, database: Database) -> None:
    """A desk phone's attended transfer: 1.5 s into the queued call agent 100's phone calls
    agent 101 (its second call), talks 1 s, then sends REFER with Replaces naming that call
    on the first; Asterisk joins the caller to 101, who talks 6 s and hangs up. The record
    keeps target, kind and time, and its talk time ends at the transfer (QueueMetrics), as
    queue_log's ATTENDEDTRANSFER says. The line's recording policy covers the consultation
    too: recorded on 101's channel, it goes on as the caller's talk with 101, and is filed
    with the caller's call."""
    first_phone = clean_pbx.add_agent("100", ["citywide"], ring_ms=300, talk_ms=25000,
                                      attended=sipp.Attended(1500, "agent-101", 1000))
    second = clean_pbx.phone("101", ring_ms=300, talk_ms=6000,  # registered, in no queue
                             speech=sipp.SPEECH_PCAP)
    caller = clean_pbx.call(calls=1, hold_ms=25000, caller_numbers=["+12125550145"],
                            speech=sipp.SPEECH_PCAP)  # the caller talks: audio to record
    first = wait_until(lambda: answered_by(database, "100"), 20, what="agent 100 to answer")
    wait_until(lambda: "transfer accepted" in first_phone.events() or not first_phone.running(),
               15, what="Asterisk to take the REFER")
    assert "transfer accepted" in first_phone.events(), first_phone.log.read_text()[-3000:]
    # the caller is in one bridge with 101's phone, agent 100's calls are gone
    peers = wait_until(lambda: clean_pbx.bridged_with(first.channel), 5,
                       what="the caller to be bridged to agent 101")
    assert [p.split("-")[0] for p in peers] == ["PJSIP/agent101"], peers
    # the caller now talks to 101 until 101 hangs up (well before the caller's own 25 s)
    assert (caller.wait(60).successful, caller.counts()[1]) == (1, 0)
    assert second.events().count("rung") == 1, second.events()  # one call: the consultation

    (rec,) = wait_until(lambda: finished(database, 1), 15, what="the call's record")
    assert rec.uniqueid == first.uniqueid
    assert (rec.outcome, rec.agent, rec.hangup_side) == ("answered", "100", "transfer")
    assert (rec.transfer_target, rec.transfer_kind) == ("agent-101", "attended")
    assert rec.transferred_at is not None and rec.answered_at is not None
    assert rec.ended_at is not None
    assert abs((rec.transferred_at - rec.ended_at).total_seconds()) < 1.5
    logged = assert_matches_log(clean_pbx, [rec])
    assert "ATTENDEDTRANSFER" in clean_pbx.queue_log_events(), logged
    # talk ends at the transfer (~2.5 s: 1.5 s, then the 1 s consultation); the caller's
    # 6 s with 101 are not agent 100's
    assert rec.talk_s is not None and 1.5 <= rec.talk_s <= 4.5, rec.talk_s
    assert abs(rec.talk_s - (rec.transferred_at - rec.answered_at).total_seconds()) <= 1.5
    assert summary(database, "citywide").answered == 1

    # recorded under the line's policy: the queue call up to the transfer (agent 100's
    # channel) and the consultation, which goes on as the caller with 101 (101's channel)
    assert_consultation_catalogued(clean_pbx, database, rec)
