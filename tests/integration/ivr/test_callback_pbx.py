"""Virtual hold on the real Asterisk: a waiting caller presses 1, confirms their number and
hangs up; a caller who arrived after them waits on; when the agent is free the system calls
the first caller back before the one behind, out through the carrier trunk (the test PBX has
one: the SIPp carrier of tests/support/carrier.py receives the callback, to the confirmed
number in E.164, from the city's caller ID), and the call records and the callback row agree
with Asterisk's queue_log."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from acd.models import CallRecord
from foundation.db import Database
from ivr.callback.models import CallbackRequest
from telephony import sipp
from tests.support import carrier, ports
from tests.support.dtmf import unique_dtmf_block
from tests.support.pbx import DaemonProc, Pbx, wait_until

pytestmark = pytest.mark.asterisk
LINE = "queue-citywide"
RESIDENT_PORT = ports.port("resident_phone")
FIRST, BEHIND, FILLER = "+12125550001", "+12125550002", "+12125550100"


@pytest.fixture(autouse=True)
def distinct_key_presses(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sipp, "dtmf_block", unique_dtmf_block(tmp_path / "dtmf"))


def record(db: Database, number: str, path_prefix: str = "") -> CallRecord | None:
    with db.session() as s:
        rows = [r for r in s.scalars(select(CallRecord).where(CallRecord.caller_number == number))
                if (r.ivr_path or "").startswith(path_prefix)]
        s.expunge_all()
    return rows[-1] if rows else None


def callback_row(db: Database) -> CallbackRequest | None:
    with db.session() as s:
        row = s.scalar(select(CallbackRequest))
        s.expunge_all()
    return row


def queue_log_events(pbx: Pbx) -> list[tuple[int, str, str, list[str]]]:
    """(epoch, callid, event, data) of every call line, read independently of acd/."""
    out = []
    for line in pbx.queue_log.read_text().splitlines():
        f = line.split("|")
        if len(f) >= 5 and f[1] not in ("NONE", "") and f[2] != "NONE":
            out.append((int(f[0]), f[1], f[4], f[5:]))
    return out


def test_callback_keeps_the_place_in_line(clean_pbx: Pbx, daemon: DaemonProc,
                                          database: Database) -> None:
    clean_pbx.add_agent("100", ["citywide"], ring_ms=300, talk_ms=16000)
    filler = clean_pbx.call(number=LINE, hold_ms=60000, caller_numbers=[FILLER])
    wait_until(lambda: (r := record(database, FILLER)) and r.answered_at, 20,
               what="the agent busy with a first caller")
    # the first caller waits, presses 1 (callback), then 1 again (confirm their number)
    first = clean_pbx.call(number=LINE, digits="1,,,1", first_digit_ms=2500, hold_ms=40000,
                           caller_numbers=[FIRST], local_port=RESIDENT_PORT)
    # the one behind arrives once the first caller is in line (Asterisk's own word for it)
    wait_until(lambda: [e for _, _, e, _ in queue_log_events(clean_pbx)].count("ENTERQUEUE")
               >= 2, 20, what="the first caller in the queue (behind the filler)")
    behind = clean_pbx.call(number=LINE, hold_ms=90000, caller_numbers=[BEHIND])
    result = first.wait(60)
    assert result.successful == 1, first.log.read_text()[-2000:]  # Asterisk said goodbye
    gateway = carrier.carrier(ring_ms=500, talk_ms=4000)  # hangs up after 4 s of talk
    clean_pbx.phones.append(gateway)  # stopped with the agents

    row = wait_until(lambda: (c := callback_row(database)) and c.state == "connected" and c,
                     60, interval=0.5, what="the callback connected")
    assert (row.number, row.attempts, row.queue, row.position) == (FIRST, 1, "citywide", 1)
    assert row.dial == f"PJSIP/{FIRST}@carrier"  # not back to 127.0.0.1, where it came from
    (invite,) = [e for e in gateway.events() if e.startswith("invite ")]
    assert invite.startswith(f"invite {FIRST} "), invite
    assert carrier.CITY_CALLER_ID in invite.split(" pai ")[1], invite  # P-Asserted-Identity
    assert "answered" in gateway.events()
    assert row.placeholder_uniqueid and row.connected_at and row.calling_at
    # the one behind was still waiting when the callback was answered
    waiting = record(database, BEHIND)
    assert waiting is not None and waiting.answered_at is None

    original = wait_until(lambda: (r := record(database, FIRST, "direct"))
                          and r.outcome == "callback" and r, 20, what="original as callback")
    assert original.uniqueid == row.original_uniqueid and original.answered_at is None
    placeholder = wait_until(lambda: (r := record(database, FIRST, "callback:"))
                             and r.outcome == "answered" and r, 40,
                             what="the callback's own call record")
    assert placeholder.uniqueid == row.placeholder_uniqueid
    assert placeholder.ivr_path == f"callback:{row.id}" and placeholder.agent == "100"
    assert placeholder.position == 1

    # Asterisk's queue_log: the caller left by key, our CALLBACK line closed it, and the
    # placeholder was connected before the caller who had arrived after the first one
    behind_rec = wait_until(lambda: (r := record(database, BEHIND)) and r.answered_at and r,
                            60, what="the caller behind answered")
    events = queue_log_events(clean_pbx)
    by_call: dict[str, list[str]] = {}
    for _, callid, event, _data in events:
        by_call.setdefault(callid, []).append(event)
    assert by_call[original.uniqueid][:3] == ["ENTERQUEUE", "EXITWITHKEY", "CALLBACK"]
    assert by_call[placeholder.uniqueid][:2] == ["ENTERQUEUE", "CONNECT"]
    connects = [callid for _, callid, event, _ in events if event == "CONNECT"]
    assert connects.index(placeholder.uniqueid) < connects.index(behind_rec.uniqueid)
    assert placeholder.answered_at is not None
    assert placeholder.answered_at <= behind_rec.answered_at
    for proc in (behind, filler):
        proc.wait(120)
