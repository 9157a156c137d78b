"""Hold and attended transfers on the Twilio ACD against the Twilio simulator: the call moves
into a Conference at its first hold or consult, the desktop's actions reach the simulator as
the Participants requests Twilio documents, and every record (hold time included) equals
what the simulator saw, with conference callbacks sent twice and all of them replayed
backwards afterwards changing nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from acd.models import CallRecord
from foundation.db import Database
from telephony.twilio_sim import scenario as sc
from telephony.twilio_sim.cloud import Truth
from tests.integration.acd.test_twilio_sim import records, truth

SCENARIOS = Path(__file__).parent / "twilio_scenarios"
NAMED = {"referral:+12125550177": "ref-12125550177", "referral:+12125550188": "ref-12125550188",
         "referral:+12125550199": "ref-12125550199"}  # as acd/transfer.py names them


def with_hold(db: Database) -> dict[tuple[str, int], dict[str, Any]]:
    out = records(db)
    with db.session() as s:
        for r in s.scalars(select(CallRecord)):
            out[(r.uniqueid, r.leg)].update(hold_s=r.hold_s, transfer_kind=r.transfer_kind)
    return out


def seen(t: Truth) -> dict[str, Any]:
    return {**truth(t), "hold_s": t.hold_s, "transfer_kind": t.transfer_kind,
            "transfer_target": NAMED.get(t.transfer_target or "", t.transfer_target)}


def participants(rest: Any, kind: str, uid: str | None = None) -> list[dict[str, Any]]:
    return [r for r in rest.handled(kind) if uid is None or r["path"].endswith(f"/{uid}.json")]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_hold_and_attended_transfers_are_recorded_as_the_simulator_saw_them(
        app: Flask, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.twilio_sim import simulated

    plan = sc.load(SCENARIOS / "conference.yaml")
    with simulated(app, plan, monkeypatch, wrapup_s=5) as (sim, rest, worker):
        sim.run_until(500, tick=lambda now: worker.run(now))
        truths = {(t.uniqueid, t.leg): seen(t) for t in sim.truths()}
        assert {uid: t["outcome"] for (uid, _), t in truths.items()} == {
            c.sid: c.expect for c in plan.callers}
        assert with_hold(database) == truths
        side = {uid: (t["hangup_side"], t["transfer_kind"], t["transfer_target"])
                for (uid, _), t in truths.items()}
        assert side == {
            "CA-held-twice": ("agent", None, None),
            "CA-handed-over": ("transfer", "attended", "ref-12125550177"),
            "CA-consult-cancelled": ("agent", None, None),
            "CA-agent-hangs-up-to-hand-over": ("transfer", "attended", "ref-12125550199"),
            "CA-hangs-up-on-hold": ("caller", None, None),
            "CA-target-never-answers": ("agent", None, None)}
        held = {uid: t["hold_s"] for (uid, _), t in truths.items()}
        # from Twilio's hold to its unhold: 8 s asked, 7 held (the first hold waits a second
        # for the move into the room), then 5 s
        assert held["CA-held-twice"] == 12.0
        assert held["CA-hangs-up-on-hold"] > 0 and held["CA-handed-over"] > 0
        assert held["CA-target-never-answers"] >= 30  # the consult's ring-out, on hold
        assert all(c.ended is not None for c in sim.calls.values())
        assert not any(r.parts for r in sim.rooms.values())

        # what the desktop's actions were to Twilio: the REST calls it documents
        holds = [(r["form"].get("Hold"), "HoldUrl" in r["form"])
                 for r in participants(rest, "participant", "CA-held-twice")]
        assert holds == [("true", True), ("false", False), ("true", True), ("false", False)]
        made = rest.handled("participant-create")
        assert [(r["form"]["To"], r["form"]["EndConferenceOnExit"]) for r in made] == [
            ("+12125550177", "false"), ("+12125550188", "false"), ("+12125550199", "false"),
            ("client:agent102", "false")]
        assert all("/Conferences/CF" in r["path"] for r in made)
        assert len(rest.handled("participant-delete")) == 2  # Complete: the agent; Cancel: target
        moved = [r for r in rest.handled("redirect") if "/twilio/acd/room/" in r["form"]["Url"]]
        assert len(moved) == 6  # each call's agent leg into its room, once
        events = [form["StatusCallbackEvent"] for _, path, form, _ in sim.webhooks
                  if path.startswith("/twilio/acd/conference/")
                  and form.get("CallSid") == "CA-held-twice"]
        assert events.count("participant-hold") == 4  # twice each: Twilio's duplicates

        first = with_hold(database)
        for _, path, form, _ in reversed(sim.webhooks):  # every callback again, backwards
            sim.transport.post(path, form, sim.signer.compute_signature(sim.public_base + path,
                                                                         form))
        worker.run(sim.when(500))
        assert with_hold(database) == first


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_hold_callback_that_arrives_after_its_unhold_counts_once(
        app: Flask, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.twilio_sim import simulated

    plan = sc.parse({"agents": [{"id": "101", "queues": ["citywide"], "talk_s": 40}],
                     "callers": [{"sid": "CA-crossed", "at": 1, "hold": [[5, 6], [20, 4]],
                                  "late": ["conference"]}]})
    with simulated(app, plan, monkeypatch, wrapup_s=5) as (sim, _, worker):
        sim.run_until(60, tick=lambda now: worker.run(now))
        order = [form["StatusCallbackEvent"] for _, path, form, _ in sim.webhooks
                 if path.startswith("/twilio/acd/conference/")
                 and form["StatusCallbackEvent"].startswith("participant-")
                 and form["StatusCallbackEvent"] != "participant-join"
                 and form.get("CallSid") == "CA-crossed"]
        assert order[:4] == ["participant-unhold", "participant-hold"] * 2  # crossed
        truths = {(t.uniqueid, t.leg): seen(t) for t in sim.truths()}
        assert truths[("CA-crossed", 1)]["hold_s"] == 5.0 + 4.0
        assert with_hold(database) == truths
