"""Post-call survey: a real caller rates the call by keypad after the agent hangs up (real
Asterisk, SIPp phones, the daemon's FastAGI); results by agent and queue on /qa/surveys."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from acd.models import CallRecord
from foundation.db import Database, utcnow
from recordings import survey
from recordings.models import SurveyResponse
from tests.conftest import login
from tests.support.pbx import Pbx, running_daemon, wait_until


def responses(db: Database) -> dict[str, SurveyResponse]:
    with db.session() as s:
        rows = list(s.scalars(select(SurveyResponse)))
        s.expunge_all()
    return {r.uniqueid: r for r in rows}


def answered(db: Database, caller: str) -> bool:
    with db.session() as s:
        return s.scalar(select(CallRecord.answered_at).where(
            CallRecord.caller_number == caller)) is not None


@pytest.mark.asterisk
def test_a_caller_rates_the_call_after_the_agent_hangs_up(clean_pbx: Pbx, database: Database,
                                                          tmp_path: Path) -> None:
    clean_pbx.add_agent("100", ["environment", "citywide"], ring_ms=300, talk_ms=2000)
    with running_daemon(clean_pbx, database.url, tmp_path / "daemon.log"):
        rater = clean_pbx.call(number="queue-environment", digits="4", first_digit_ms=7000,
                               hold_ms=30000, caller_numbers=["+12125550501"])
        # the rater takes the one agent first, so its key lands in the survey, not in a queue
        wait_until(lambda: answered(database, "+12125550501"), 15, what="the rater answered")
        silent = clean_pbx.call(number="queue-environment", hold_ms=20000,  # hangs up
                                caller_numbers=["+12125550502"])        # mid-survey
        plain = clean_pbx.call(number="queue-citywide", digits="4", first_digit_ms=7000,
                               hold_ms=12000, caller_numbers=["+12125550503"])
        for run in (rater, silent, plain):
            assert run.wait(60).failed == 0
        got = wait_until(lambda: len(r := responses(database)) == 2 and r, 60,
                         what="two survey responses")
    # the caller who pressed 4 rated agent 100; the silent one was asked and counted; the
    # citywide caller (no survey in that queue) was never asked
    assert sorted(((r.score or 0), r.agent, r.queue) for r in got.values()) == [
        (0, "100", "environment"), (4, "100", "environment")]


def test_survey_results_by_agent_and_queue(app: Flask, users: dict[str, str],
                                           database: Database) -> None:
    now = utcnow()
    for i, (agent, queue, score) in enumerate([
            ("100", "citywide", 5), ("100", "citywide", 4), ("100", "noise", None),
            ("101", "citywide", 2), ("101", "citywide", 3)]):
        assert survey.record(database, f"1.{i}", queue, agent, score, "en", now)
    assert not survey.record(database, "1.0", "citywide", "100", 1, "en", now)  # once a call
    with database.session() as s:
        agents = survey.results(s, now - timedelta(days=30), now + timedelta(seconds=1), "agent")
        queues = survey.results(s, now - timedelta(days=30), now + timedelta(seconds=1),
                                "queue")
    assert [(r.name, r.asked, r.rated, r.average, r.counts) for r in agents] == [
        ("100", 3, 2, 4.5, (0, 0, 0, 1, 1)), ("101", 2, 2, 2.5, (0, 1, 1, 0, 0))]
    assert agents[0].response_rate == pytest.approx(2 / 3)
    assert [(r.name, r.asked, r.average) for r in queues] == [
        ("citywide", 4, 3.5), ("noise", 1, None)]
    assert [survey.score_of(k) for k in ("1", "5", "0", "6", "#", "", "12")] == [
        1, 5, None, None, None, None, None]

    qa = app.test_client()
    login(qa, users["qa"])
    page = qa.get("/qa/surveys").get_data(as_text=True)
    assert 'data-key="100"' in page and "4.50" in page and "67%" in page
    assert qa.get("/qa/surveys?days=x").status_code == 400
    agent = app.test_client()
    login(agent, users["agent"])
    assert agent.get("/qa/surveys").status_code == 403
