"""The demo's simulated phones talk: an agent phone and a caller that play Debian's G.711
A-law speech capture (what ``civic311 up --demo`` runs) negotiate A-law on the real Asterisk,
and the call's recording holds their speech, not silence."""

from __future__ import annotations

import array
import math
import wave

import pytest
from sqlalchemy import select

from acd.models import CallRecord
from center.demo import person_seat, speech
from foundation.db import Database
from telephony import runtime, sipp
from tests.support.pbx import DaemonProc, Pbx, wait_until

pytestmark = pytest.mark.asterisk


def test_demo_phones_send_real_audio(clean_pbx: Pbx, daemon: DaemonProc,
                                     database: Database) -> None:
    pbx = clean_pbx
    assert speech() is not None, f"sip-tester ships no {sipp.SPEECH_PCAP}"
    ext = "101"
    assert ext != person_seat(pbx.settings)  # the demo leaves seat 100 to a person
    phone = sipp.agent_phone(pbx.settings.agent_phone_port(ext), pbx.sip_target, f"agent{ext}",
                             pbx.settings.agent_sip_passwords[ext], ring_ms=300, talk_ms=5000,
                             speech=speech())
    pbx.phones.append(phone)
    runtime.wait_registered(pbx.install, f"agent{ext}", f";line={phone.line}",
                            alive=phone.running)
    pbx.rx(f"queue add member PJSIP/agent{ext} to citywide penalty 0 as {ext}")
    result = pbx.call(calls=1, hold_ms=30000, speech=speech()).wait(60)
    assert (result.successful, result.failed) == (1, 0)

    def finished() -> CallRecord | None:
        with database.session() as s:
            return s.scalar(select(CallRecord).where(CallRecord.ended_at.is_not(None)))

    rec = wait_until(finished, 15, what="the finished call record")
    assert rec.outcome == "answered" and rec.agent == ext
    file = pbx.install.spool_dir / "monitor" / "civic311" / f"{rec.uniqueid}.wav"
    wait_until(file.exists, 10, what=f"the recording {file}")
    with wave.open(str(file)) as w:
        samples = array.array("h", w.readframes(w.getnframes()))  # 16-bit, 8 kHz
    # speech, not silence: 20 ms slices of the talk that carry a voice's energy
    slices = [samples[i:i + 160] for i in range(0, len(samples) - 160, 160)]
    loud = sum(1 for f in slices if math.sqrt(sum(x * x for x in f) / len(f)) > 300)
    assert loud >= 100, f"{loud} of {len(slices)} slices hold audio"  # at least 2 s of it
