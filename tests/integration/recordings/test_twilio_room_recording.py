"""A Twilio call recorded past its move into a Conference, against the Twilio simulator: the
Dial's dual-channel recording ends at the first hold, the room (recorded from its start)
holds the rest, both are fetched, the catalog waits for the room's and files one recording
of the whole talk for the call, and both of Twilio's copies are deleted once it is
catalogued."""

from __future__ import annotations

import os
import wave
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from foundation.db import Database
from foundation.twilio_deletions import delete_due
from recordings.catalog import Paths, catalog
from recordings.models import Recording
from recordings.twilio_copies import queue_deletions
from recordings.twilio_fetch import awaited, fetch_due
from recordings.twilio_rooms import ROOM_SUFFIX
from telephony.twilio_sim import scenario as sc


def settle(paths: Paths, at: float) -> None:
    """The fetched files as written at ``at`` (the simulator's clock, not the machine's)."""
    for f in paths.incoming.iterdir():
        os.utime(f, (at, at))


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_room_after_a_hold_is_recorded_and_catalogued_with_the_call(
        app: Flask, database: Database, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    from tests.support.twilio_sim import simulated

    plan = sc.parse({"agents": [{"id": "101", "queues": ["citywide"], "ring_s": 2,
                                 "talk_s": 40}],
                     "callers": [{"sid": "CA-held", "at": 1, "hold": [[10, 6]]}]})
    with simulated(app, plan, monkeypatch, wrapup_s=5) as (sim, rest, worker):
        sim.run_until(80, tick=lambda now: worker.run(now))
        (truth,) = sim.truths()
        assert truth.talk_s is not None and truth.hold_s > 0  # held in the room
        settings = app.extensions["civic311.settings"]
        sent = [(at, path, form) for at, path, form, _ in sim.webhooks
                if path.startswith("/twilio/recording")]
        assert [(path, form["RecordingChannels"], "CallSid" in form)
                for _, path, form in sent] == [
            ("/twilio/recording", "2", True),  # the Dial's, at the move
            ("/twilio/recording/room?call=CA-held", "1", False)]  # the room's, after its end
        (dial_at, _, _), (room_at, _, _) = sent

        paths = Paths(tmp_path / "data", tmp_path / "spool")
        # the Dial's recording is fetched; the room's is not due yet (its callback is later)
        assert fetch_due(settings, database, paths.incoming, sim.when((dial_at + room_at) / 2)
                         ) == 1
        settle(paths, sim.when(60).timestamp())
        with database.session() as s:  # the rest of the call is on its way: not catalogued
            assert catalog(s, paths, ["citywide"], sim.when(80)) == {}
        assert fetch_due(settings, database, paths.incoming, sim.when(80)) == 1
        assert (paths.incoming / f"CA-held{ROOM_SUFFIX}.wav").exists()
        settle(paths, sim.when(75).timestamp())
        with database.session() as s:
            assert catalog(s, paths, ["citywide"], sim.when(80)) == {"ok": 1}
            rec = s.scalars(select(Recording)).one()
            assert (rec.uniqueid, rec.agent, rec.talk_s) == ("CA-held", "101", truth.talk_s)
            # one recording from the answer to the room's end: the whole talk (whole seconds
            # each part, as Twilio states a recording's duration)
            assert rec.duration_s == pytest.approx(truth.talk_s, abs=2.0)
            assert rec.path is not None
            with wave.open(str(paths.absolute(rec.path))) as w:
                assert w.getnchannels() == 2  # the room's one channel on both
            assert list(paths.incoming.iterdir()) == []  # nothing left behind in the spool
            assert catalog(s, paths, ["citywide"], sim.when(90)) == {}  # once

        with database.session() as s:  # both of Twilio's copies go, each once
            assert queue_deletions(s, ["citywide"], sim.when(90)) == 2
            assert queue_deletions(s, ["citywide"], sim.when(91)) == 0
        assert len(sim.recordings) == 2
        assert delete_due(settings, database, sim.when(92)) == 2
        assert sim.recordings == {}


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_catalog_waits_for_the_rooms_recording_of_a_call_that_moved(
        database: Database) -> None:
    """Its callback not come yet: a room that ended waits as long as a Twilio call waits
    for its Dial's; one still going (a hand-over: the caller talks on with the target past
    the record's end) waits until it ends, at most ``ROOM_OPEN_MAX``; a call that never
    moved waits for no room."""
    from datetime import timedelta

    from acd.twilio_acd.models import TwilioEntry
    from foundation.db import utcnow
    from recordings.models import TwilioRecording
    from recordings.twilio_rooms import ROOM_OPEN_MAX

    ended = utcnow()
    with database.session() as s:
        for uid, room, room_ended in (("CA-moved", "ready", ended), ("CA-open", "ready", None),
                                      ("CA-bridged", "", None)):
            s.add(TwilioEntry(uniqueid=uid, queue="citywide", entered_at=ended, state="done",
                              room_state=room, room_ended_at=room_ended))
            s.add(TwilioRecording(uniqueid=uid, recording_sid="RE" + "1" * 32,
                                  url="https://api.twilio.com/x", status="done",
                                  next_attempt_at=ended, last_error=""))
        s.flush()
        soon, late = ended + timedelta(seconds=30), ended + timedelta(minutes=3)
        assert awaited(s, "CA-moved", "twilio", ended, soon)
        assert not awaited(s, "CA-moved", "twilio", ended, late)
        assert awaited(s, "CA-open", "twilio", ended, late)
        assert not awaited(s, "CA-open", "twilio", ended, ended + ROOM_OPEN_MAX)
        assert not awaited(s, "CA-bridged", "twilio", ended, soon)
