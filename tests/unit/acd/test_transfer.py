"""Transfer targets (acd/transfer.py) and the AMI / queue_log transfer events."""

from __future__ import annotations

import pytest

from acd import events as ev
from acd.agent_actions import Consults
from acd.normalizer import normalize
from acd.queue_log import events_from_line
from acd.transfer import (
    TargetKind,
    TransferError,
    attended_exten,
    blind_exten,
    is_referral,
    kind_of,
    target_of,
)


def test_targets_are_extensions_of_the_transfer_contexts() -> None:
    assert blind_exten(TargetKind.QUEUE, "noise") == "queue-noise"
    assert blind_exten(TargetKind.AGENT, "101") == "agent-101"
    assert blind_exten(TargetKind.REFERRAL, "+1 (212) 555-0100") == "ref-12125550100"
    assert attended_exten(TargetKind.AGENT, "101") == "101"  # Atxfer sends keypad digits
    assert attended_exten(TargetKind.REFERRAL, "211") == "9211"


@pytest.mark.parametrize(("kind", "value"), [
    (TargetKind.QUEUE, "noise\r\nAction: Originate"), (TargetKind.AGENT, "10a"),
    (TargetKind.REFERRAL, "12"), (TargetKind.REFERRAL, "211; drop"),
])
def test_bad_targets_are_refused(kind: TargetKind, value: str) -> None:
    with pytest.raises(TransferError):
        blind_exten(kind, value)


def test_no_attended_transfer_to_a_queue() -> None:
    with pytest.raises(TransferError, match="blind"):
        attended_exten(TargetKind.QUEUE, "noise")


def test_what_asterisk_reports_is_named_as_the_target() -> None:
    assert target_of("Local/101@civic311-atxfer-0000001a;1") == "agent-101"
    assert target_of("Local/9211@civic311-atxfer-00000002;2") == "ref-211"
    assert target_of("PJSIP/agent101-00000003") == "agent-101"
    assert target_of("queue-noise") == "queue-noise"
    assert kind_of("ref-211") is TargetKind.REFERRAL and is_referral("ref-211")
    assert kind_of("queue-noise") is TargetKind.QUEUE and not is_referral("agent-101")
    assert kind_of("BRIDGE|5c65") is None


def test_ami_transfer_events() -> None:
    blind = normalize({"Event": "BlindTransfer", "Timestamp": "1796173424.5", "Result": "Success",
                       "TransfereeUniqueid": "1796173419.5", "Extension": "queue-noise",
                       "Context": "civic311-agents"})
    assert isinstance(blind, ev.CallTransferred)
    assert (blind.uniqueid, blind.target, blind.kind) == ("1796173419.5", "queue-noise", "blind")
    attended = normalize({"Event": "AttendedTransfer", "Timestamp": "1", "Result": "Success",
                          "TransfereeUniqueid": "1.0",
                          "TransferTargetChannel": "Local/101@civic311-atxfer-00000000;1"})
    assert isinstance(attended, ev.CallTransferred)
    assert (attended.target, attended.kind) == ("agent-101", "attended")
    assert normalize({"Event": "BlindTransfer", "Result": "Fail", "TransfereeUniqueid": "1.0",
                      "Extension": "queue-noise"}) is None  # a failed transfer changes nothing


def test_an_attended_transfer_without_its_target_channel_is_named_by_the_daemon() -> None:
    """Asterisk leaves TransferTargetChannel out while the atxfer Local channel is being
    optimised away (seen on a loaded machine): the target is never the transferer itself,
    and the daemon names it from the consultation the desktop asked for."""
    raw = {"Event": "AttendedTransfer", "Timestamp": "1", "Result": "Success",
           "TransfereeUniqueid": "1.0", "OrigTransfererChannel": "PJSIP/agent100-00000004",
           "SecondTransfererChannel": "PJSIP/agent100-00000004", "DestType": "Bridge"}
    e = normalize(raw)
    assert isinstance(e, ev.CallTransferred) and (e.target, e.kind) == ("", "attended")
    consults = Consults()
    consults.note("PJSIP/agent100-00000004", "agent-101")
    consults.note("PJSIP/agent102-00000009", "ref-211")
    assert consults.take(raw["SecondTransfererChannel"]) == "agent-101"
    assert consults.take(raw["SecondTransfererChannel"]) == ""  # named once
    for i in range(Consults.MAX + 5):  # consultations never completed do not pile up
        consults.note(f"PJSIP/agent1-{i:08}", "agent-2")
    assert consults.take("PJSIP/agent102-00000009") == ""
    assert consults.take(f"PJSIP/agent1-{Consults.MAX + 4:08}") == "agent-2"


def test_queue_log_transfer_lines_end_the_talk_time() -> None:
    moved, done = events_from_line(
        "1796173424|1796173419.5|citywide|100|BLINDTRANSFER|queue-noise|civic311-agents|0|1|1")
    assert isinstance(moved, ev.CallTransferred) and isinstance(done, ev.CallCompleted)
    assert (moved.target, moved.kind, moved.queue) == ("queue-noise", "blind", "citywide")
    assert (done.wait_s, done.talk_s, done.hangup_side) == (0, 1, "transfer")
    moved, done = events_from_line(
        "1796173589|1796173580.0|citywide|100|ATTENDEDTRANSFER|BRIDGE|5c65|0|5|1")
    assert isinstance(moved, ev.CallTransferred) and isinstance(done, ev.CallCompleted)
    assert (moved.kind, moved.target, done.talk_s) == ("attended", "BRIDGE|5c65", 5)
