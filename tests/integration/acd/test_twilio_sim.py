"""civic311's Twilio ACD against the Twilio simulator (telephony/twilio_sim), a scenario
file end to end: every queued call's record equals what the simulator saw happen to it,
call for call, including Twilio's duplicated, late and retried callbacks; the post-call
survey's rows equal the keys the simulated callers pressed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from acd.models import CallRecord, RingAttempt
from acd.twilio_acd.dispatch_jobs import Dispatcher
from acd.twilio_acd.reconcile_jobs import Reconciler
from foundation.db import Database
from ivr.callback import twilio_jobs
from ivr.callback.models import CallbackRequest
from recordings.models import SurveyResponse
from telephony.twilio_sim import scenario as sc
from telephony.twilio_sim.cloud import Truth
from tests.support.twilio_sim import T0, simulated

SCENARIOS = Path(__file__).parent / "twilio_scenarios"


def records(db: Database) -> dict[tuple[str, int], dict[str, Any]]:
    """Every call record, in the simulator's terms (seconds from its start)."""
    out = {}
    with db.session() as s:
        for r in s.scalars(select(CallRecord)):
            rings = [(a.agent, a.ring_ms / 1000) for a in s.scalars(
                select(RingAttempt).where(RingAttempt.call_id == r.id,
                                          RingAttempt.outcome == "noanswer")
                .order_by(RingAttempt.id))]
            out[(r.uniqueid, r.leg)] = {
                "queue": r.queue, "entered_at": (r.entered_at - T0).total_seconds(),
                "outcome": r.outcome, "wait_s": r.wait_s, "talk_s": r.talk_s,
                "agent": r.agent or None, "exit_key": r.exit_key,
                "hangup_side": r.hangup_side or None,
                "transfer_target": r.transfer_target, "rang": rings}
    return out


def truth(t: Truth) -> dict[str, Any]:
    return {"queue": t.queue, "entered_at": t.entered_at, "outcome": t.outcome,
            "wait_s": t.wait_s, "talk_s": t.talk_s, "agent": t.agent, "exit_key": t.exit_key,
            "hangup_side": t.hangup_side, "transfer_target": t.transfer_target,
            "rang": t.rang}


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_acceptance_scenario_is_recorded_as_the_simulator_saw_it(
        app: Flask, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = sc.load(SCENARIOS / "acceptance.yaml")
    with simulated(app, plan, monkeypatch, timeout_s=60, wrapup_s=15) as (sim, rest, worker):
        sim.run_until(240, tick=lambda now: worker.run(now))
        seen = {(t.uniqueid, t.leg): truth(t) for t in sim.truths()}
        assert {uid: t["outcome"] for (uid, _), t in seen.items()} == {
            c.sid: c.expect for c in plan.callers if c.expect}
        assert records(database) == seen
        assert all(c.ended is not None for c in sim.calls.values())
        assert sim.members and not any(sim.members.values())  # nobody left in a queue
        sent = [path for _, path, _, _ in sim.webhooks]
        assert sent.count("/twilio/status") == len(sim.calls) + 2  # two sent twice
        assert len(rest.handled("dequeue")) == 5  # one per offer (CA-rings-out has two)
        assert [path.split("?")[0] for _, path, form, _ in sim.webhooks
                if "CA-answered-fast" in (form["CallSid"], form.get("ParentCallSid"))] == [
            "/twilio/voice", "/twilio/gather", "/twilio/gather", "/twilio/wait",
            "/twilio/enqueued", "/twilio/acd/offer/3", "/twilio/acd/leg/3",
            "/twilio/acd/dialed/3", "/twilio/survey", "/twilio/status",
            "/twilio/recording"]  # Twilio's order (citywide asks the survey; they hang up)
        first = records(database)
        for _, path, form, _ in reversed(sim.webhooks):  # every callback again, backwards
            sim.transport.post(path, form, sim.signer.compute_signature(sim.public_base + path,
                                                                         form))
        worker.run(sim.when(400))
        assert records(database) == first


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_restart_rebuilds_the_acd_from_twilios_calls_and_queues(
        app: Flask, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from center.web import create_app

    plan = sc.load(SCENARIOS / "restart.yaml")
    settings = app.extensions["civic311.settings"]
    with simulated(app, plan, monkeypatch, wrapup_s=15) as (sim, rest, worker):
        sim.run_until(27, tick=worker.run)
        rest.fail_next(503, 503)  # the offer to 103 at 28: its dequeue fails, then we crash
        sim.run_until(29, tick=worker.run)
        sim.transport.down = True  # type: ignore[attr-defined]
        sim.run_until(59)  # nothing answers Twilio, no worker runs
        assert [c.sid for c in sim.calls.values() if c.ended is not None] == [
            "CA-talking", "CA-gives-up"]
        fresh = create_app(settings, database)
        fresh.config.update(TESTING=True)
        sim.transport.client, sim.transport.down = fresh.test_client(), False  # type: ignore[attr-defined]
        worker, reconciler = Dispatcher(settings, database), Reconciler(settings, database)
        assert reconciler.run(sim.when(60)) == {"ended": 2, "in_line": 1}
        sim.run_until(120, tick=worker.run)
        assert reconciler.run(sim.when(121)) == {"ended": 0, "in_line": 0}
        seen = {(t.uniqueid, t.leg): truth(t) for t in sim.truths()}
        got = records(database)
        # who hung up is not in Twilio's Call resource: a talk that ended unheard of
        # is the caller's on the record
        assert seen[("CA-talking", 1)]["hangup_side"] == "agent"
        assert got[("CA-talking", 1)]["hangup_side"] == "caller"
        got[("CA-talking", 1)]["hangup_side"] = "agent"
        assert got == seen
        assert seen[("CA-still-waiting", 1)]["agent"] in ("101", "103")
        assert all(c.ended is not None for c in sim.calls.values())


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_transfer_to_a_queue_is_a_new_queued_call_of_the_same_caller(
        app: Flask, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = sc.load(SCENARIOS / "transfer.yaml")
    with simulated(app, plan, monkeypatch, wrapup_s=5) as (sim, rest, worker):
        sim.transport.fail_once.add(("/twilio/status", "CA-to-sanitation"))  # type: ignore[attr-defined]
        sim.run_until(80, tick=lambda now: worker.run(now))
        assert [status for _, path, form, status in sim.webhooks if path == "/twilio/status"
                and form["CallSid"] == "CA-to-sanitation"] == [500, 204]  # Twilio retried
        seen = {(t.uniqueid, t.leg): truth(t) for t in sim.truths()}
        for uid, queue in (("CA-to-sanitation", "sanitation"), ("CA-to-noise", "noise")):
            seen[(uid, 1)]["transfer_target"] = f"queue-{queue}"  # as acd/transfer.py names it
        assert records(database) == seen
        assert [(k, t["queue"], t["outcome"], t["agent"], t["hangup_side"])
                for k, t in seen.items()] == [
            (("CA-to-sanitation", 1), "citywide", "answered", "101", "transfer"),
            (("CA-to-sanitation", 2), "sanitation", "answered", "102", "agent"),
            (("CA-to-noise", 1), "citywide", "answered", "101", "transfer"),
            (("CA-to-noise", 2), "noise", "refused", None, None)]
        assert seen[("CA-to-sanitation", 1)]["talk_s"] == 10.0
        with database.session() as s:
            paths = [r.ivr_path for r in s.scalars(select(CallRecord).where(
                CallRecord.leg == 2).order_by(CallRecord.id))]
        assert paths == ["transfer", "transfer"]
        redirects = rest.handled("redirect")
        assert [r["path"].rsplit("/", 1)[-1] for r in redirects] == [
            "CA-to-sanitation.json", "CA-to-noise.json"]
        assert "queue=sanitation" in redirects[0]["form"]["Url"]
        assert all(c.ended is not None for c in sim.calls.values())


def rating(pressed: list[str]) -> int | None:
    """What the caller's keys mean: the first of 1-5 (civic311 asks twice at most)."""
    return next((int(k) for k in pressed[:2] if len(k) == 1 and k in "12345"), None)


def surveys(db: Database) -> dict[str, tuple[str, str, int | None]]:
    with db.session() as s:
        return {r.uniqueid: (r.queue, r.agent, r.score) for r in s.scalars(select(SurveyResponse))}


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_post_call_survey_rates_the_call_as_the_caller_pressed(
        app: Flask, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = sc.load(SCENARIOS / "survey.yaml")
    with simulated(app, plan, monkeypatch, wrapup_s=5) as (sim, _, worker):
        sim.run_until(260, tick=lambda now: worker.run(now))
        seen = {(t.uniqueid, t.leg): truth(t) for t in sim.truths()}
        assert {uid: t["outcome"] for (uid, _), t in seen.items()} == {
            c.sid: c.expect for c in plan.callers}
        assert records(database) == seen
        asked = {t.uniqueid: (t.queue, t.agent, rating(t.survey))
                 for t in sim.truths() if t.survey is not None}
        assert surveys(database) == asked
        assert asked == {"CA-rates-4": ("citywide", "101", 4),
                         "CA-wrong-key-then-2": ("citywide", "101", 2),
                         "CA-silent": ("citywide", "101", None),
                         "CA-hangs-up-at-the-question": ("citywide", "101", None),
                         "CA-never-listens": ("citywide", "101", None)}
        assert [t.survey for t in sim.truths() if t.uniqueid == "CA-silent"] == [["", ""]]
        assert [path.split("?")[0] for _, path, form, _ in sim.webhooks
                if form["CallSid"] == "CA-wrong-key-then-2"
                and path != "/twilio/recording"][-5:] == [
            "/twilio/acd/dialed/2", "/twilio/survey", "/twilio/survey", "/twilio/survey",
            "/twilio/status"]  # asked, 9: asked again, 2: thanks and goodbye
        assert all(c.ended is not None for c in sim.calls.values())
        first = surveys(database)
        for _, path, form, _ in reversed(sim.webhooks):  # Twilio's retries change nothing
            if path.startswith("/twilio/survey"):
                sim.transport.post(path, form,
                                   sim.signer.compute_signature(sim.public_base + path, form))
        assert surveys(database) == first


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_queue_without_the_survey_hangs_up_when_the_agent_does(
        app: Flask, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = sc.parse({"agents": [{"id": "101", "queues": ["citywide"], "talk_s": 10}],
                     "callers": [{"sid": "CA-rates-4", "at": 1, "survey_keys": ["4"]}]})
    with simulated(app, plan, monkeypatch, survey=False) as (sim, _, worker):
        sim.run_until(40, tick=lambda now: worker.run(now))
        assert [t.outcome for t in sim.truths()] == ["answered"]
        assert [t.survey for t in sim.truths()] == [None]  # never asked
        assert not any(path.startswith("/twilio/survey") for _, path, _, _ in sim.webhooks)
        assert surveys(database) == {}
        client = app.test_client()  # unsigned: refused, nothing stored
        assert client.post("/twilio/survey?q=citywide&a=101&n=1",
                           data={"CallSid": "CA-rates-4", "Digits": "5"}).status_code == 403
        assert surveys(database) == {}


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_called_back_resident_waits_in_the_acds_queue_and_is_offered_to_an_agent(
        app: Flask, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = sc.load(SCENARIOS / "callback.yaml")
    settings = app.extensions["civic311.settings"]
    with simulated(app, plan, monkeypatch, wrapup_s=5) as (sim, rest, worker):
        settings.twilio_from_number = "+13115550311"

        def tick(now: datetime) -> None:
            worker.run(now)
            twilio_jobs.place_due(settings, database, now)

        sim.run_until(200, tick=tick)
        assert [r["form"]["To"] for r in rest.handled("place")] == ["+12125550142"]
        back = next(c for c in sim.calls.values() if c.direction == "outbound-api")
        seen = {(t.uniqueid, t.leg): truth(t) for t in sim.truths()}
        seen[("CA-asks-callback", 1)]["outcome"] = "callback"  # the callback carries it on
        got = records(database)
        assert got == seen
        answered = sorted((t["entered_at"] + t["wait_s"], uid, t["agent"])
                          for (uid, _), t in seen.items() if t["outcome"] == "answered")
        assert [(uid, agent) for _, uid, agent in answered] == [
            ("CA-talks-first", "101"), (back.sid, "101"),  # their kept place: before
            ("CA-comes-later", "101")]  # the caller who came in after them
        assert seen[("CA-comes-later", 1)]["entered_at"] < seen[(back.sid, 1)]["entered_at"]
        with database.session() as s:
            row = s.scalars(select(CallbackRequest)).one()
            record = s.scalars(select(CallRecord).where(CallRecord.uniqueid == back.sid)).one()
            assert (row.state, record.ivr_path, record.caller_number) == (
                "connected", f"callback:{row.id}", "+12125550142")
            rated = s.scalars(select(SurveyResponse)
                              .where(SurveyResponse.uniqueid == back.sid)).one()
            assert (rated.score, rated.language) == (5, "es")  # their language, as booked
        assert all(c.ended is not None for c in sim.calls.values())
