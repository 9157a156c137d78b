"""/metrics through the Flask test client: exact counters and histogram buckets from known
call records (before and after the worker folds them), label sets, and who may scrape."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from acd import counters, live_store
from acd.live import LiveBoard
from acd.models import CallRecord
from foundation.db import Database, utcnow
from foundation.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[3]
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _call(s: Any, uid: str, queue: str, entered: datetime, outcome: str | None, wait: float,
          talk: float | None = None, ivr_path: str | None = None) -> None:
    s.add(CallRecord(uniqueid=uid, queue=queue, entered_at=entered, outcome=outcome,
                     wait_s=wait, talk_s=talk, hold_s=0.0, acw_s=0.0, ivr_path=ivr_path,
                     source="ami"))


def scrape(app: Any, **kw: Any) -> tuple[int, str]:
    res = app.test_client().get("/metrics", **kw)
    return res.status_code, res.get_data(as_text=True)


def samples(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for smp in family.samples:
            out[(smp.name, frozenset(smp.labels.items()))] = smp.value
    return out


def get(got: Samples, name: str, **labels: str) -> float:
    return got[(name, frozenset(labels.items()))]


@pytest.fixture
def known_calls(database: Database, settings: Settings) -> datetime:
    """Four days ago and an hour ago, so that folding moves some and leaves the rest."""
    settings.node_name = "node-a"
    now = utcnow()
    old, recent = now - timedelta(days=4), now - timedelta(hours=1)
    with database.session() as s:
        _call(s, "c1", "citywide", old, "answered", 10, 100)
        _call(s, "c2", "citywide", old, "answered", 25, 200)
        _call(s, "c3", "citywide", recent, "answered", 50, 400)
        _call(s, "c4", "citywide", old, "abandoned", 2)  # short (under 5 s)
        _call(s, "c5", "citywide", recent, "abandoned", 40)
        _call(s, "c6", "citywide", old, "timeout", 600)
        _call(s, "c7", "citywide", recent, "refused", 0)
        _call(s, "c8", "citywide", recent, None, 12)  # live: not counted yet
        _call(s, "c9", "citywide", recent, "answered", 3, 50, ivr_path="callback:c5")
        _call(s, "n1", "noise", old, "answered", 70, 30)
    return now


def assert_known(got: Samples) -> None:
    q = {"queue": "citywide", "node": "node-a"}
    calls = {o: get(got, "civic311_calls_total", **q, outcome=o) for o in counters.OUTCOMES}
    assert calls == {"answered": 3, "abandoned": 1, "short_abandoned": 1, "timeout": 1,
                     "refused": 1, "exit_key": 0, "exit_empty": 0, "callback": 0, "dropped": 0}
    wait = {le: get(got, "civic311_queue_wait_seconds_bucket", **q, outcome="answered", le=le)
            for le in ("5.0", "10.0", "20.0", "30.0", "45.0", "60.0", "+Inf")}
    assert wait == {"5.0": 0, "10.0": 1, "20.0": 1, "30.0": 2, "45.0": 2, "60.0": 3, "+Inf": 3}
    assert get(got, "civic311_queue_wait_seconds_sum", **q, outcome="answered") == 85
    assert get(got, "civic311_queue_wait_seconds_count", **q, outcome="answered") == 3
    assert get(got, "civic311_queue_wait_seconds_bucket", **q, outcome="abandoned",
               le="30.0") == 0
    assert get(got, "civic311_queue_wait_seconds_bucket", **q, outcome="abandoned",
               le="45.0") == 1
    assert get(got, "civic311_queue_wait_seconds_bucket", **q, outcome="short_abandoned",
               le="5.0") == 1
    assert get(got, "civic311_queue_wait_seconds_bucket", **q, outcome="timeout",
               le="300.0") == 0
    assert get(got, "civic311_queue_wait_seconds_bucket", **q, outcome="timeout",
               le="600.0") == 1
    talk = {le: get(got, "civic311_call_talk_seconds_bucket", **q, le=le)
            for le in ("60.0", "120.0", "300.0", "450.0", "+Inf")}
    assert talk == {"60.0": 0, "120.0": 1, "300.0": 2, "450.0": 3, "+Inf": 3}
    assert get(got, "civic311_call_talk_seconds_sum", **q) == 700
    noise = {"queue": "noise", "node": "node-a"}
    assert get(got, "civic311_calls_total", **noise, outcome="answered") == 1
    assert get(got, "civic311_queue_wait_seconds_bucket", **noise, outcome="answered",
               le="60.0") == 0
    assert get(got, "civic311_queue_wait_seconds_bucket", **noise, outcome="answered",
               le="90.0") == 1
    # refused callers never waited: no wait series for them
    assert not [k for k in got if k[0].startswith("civic311_queue_wait")
                and ("outcome", "refused") in k[1]]


def test_counters_and_buckets_are_exact_before_and_after_the_fold(
        app: Any, database: Database, settings: Settings, known_calls: datetime) -> None:
    status, text = scrape(app)
    assert status == 200
    before = samples(text)
    assert_known(before)
    assert not [k for k in before if k[0] == "civic311_calls_folded_until_timestamp_seconds"]

    until = counters.fold(database, settings, known_calls)  # what the worker does
    assert known_calls - timedelta(days=4) < until < known_calls - timedelta(hours=1)
    after = samples(scrape(app)[1])
    assert after == {**before, ("civic311_calls_folded_until_timestamp_seconds",
                                frozenset({("node", "node-a")})): until.timestamp()}
    assert counters.fold(database, settings, known_calls) == until  # idempotent
    assert samples(scrape(app)[1]) == after

    with database.session() as s:  # the live call ends, one more arrives: both counted once
        row = s.query(CallRecord).filter_by(uniqueid="c8").one()
        row.outcome, row.talk_s = "answered", 90.0
        _call(s, "c10", "citywide", known_calls, "exit_key", 30)
    later = samples(scrape(app)[1])
    q = {"queue": "citywide", "node": "node-a"}
    assert get(later, "civic311_calls_total", **q, outcome="answered") == 4
    assert get(later, "civic311_calls_total", **q, outcome="exit_key") == 1
    assert get(later, "civic311_queue_wait_seconds_bucket", **q, outcome="answered",
               le="15.0") == 2


def test_label_sets_live_gauges_and_old_names(app: Any, database: Database,
                                              settings: Settings, known_calls: datetime) -> None:
    from acd import events as ev

    board = LiveBoard(["citywide", "noise"], {"citywide": 0})
    board.apply([
        ev.MemberState(known_calls, "citywide", "100", "added", False, "", 1, False),
        ev.MemberState(known_calls, "citywide", "101", "added", True, "lunch", 1, False),
        ev.CallerJoined(known_calls, "u1", "u1", "PJSIP/x", "citywide", 1, "5551", ""),
    ])
    with database.session() as s:
        live_store.publish(s, board.doc())
    text = scrape(app)[1]
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["civic311_calls"].type == "counter"
    assert families["civic311_queue_wait_seconds"].type == "histogram"
    assert families["civic311_call_talk_seconds"].type == "histogram"
    for name, labels in (("civic311_calls", {"queue", "node", "outcome"}),
                         ("civic311_call_talk_seconds", {"queue", "node"}),
                         ("civic311_agents", {"queue", "node", "state"}),
                         ("civic311_service_level_goal_ratio", {"queue", "node"})):
        seen = {frozenset(smp.labels) - {"le"} for smp in families[name].samples}
        assert seen == {frozenset(labels)}, name
    queues = {smp.labels["queue"] for smp in families["civic311_calls"].samples}
    assert queues == set(settings.queue_names())  # every queue, zero when it had no call
    got = samples(text)
    q = {"queue": "citywide", "node": "node-a"}
    assert get(got, "civic311_agents", **q, state="available") == 1
    assert get(got, "civic311_agents", **q, state="paused") == 1
    assert get(got, "civic311_calls_waiting", **q) == 1
    assert get(got, "civic311_service_level_goal_ratio", **q) == 0.9
    assert get(got, "civic311_service_level_goal_answer_seconds", **q) == 30
    # the "today" gauges keep their names and labels (the recent calls are today's, in UTC
    # terms at least: only their presence is asserted)
    assert ("civic311_calls_offered_today", frozenset({("queue", "noise")})) in got


def test_metrics_refuses_anonymous_scrapers_outside_the_allow_list(
        app: Any, settings: Settings) -> None:
    outside = {"environ_base": {"REMOTE_ADDR": "203.0.113.7"}}
    assert scrape(app, **outside)[0] == 403  # default: loopback only
    assert scrape(app)[0] == 200  # the test client comes from 127.0.0.1
    assert scrape(app, environ_base={"REMOTE_ADDR": "::ffff:127.0.0.1"})[0] == 200
    settings.metrics_allow = ["203.0.113.0/24"]
    assert scrape(app, **outside)[0] == 200
    assert scrape(app)[0] == 403  # loopback no longer listed

    settings.metrics_token = "s3cret-token-for-prometheus"
    res = app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "198.51.100.1"})
    assert res.status_code == 401 and res.headers["WWW-Authenticate"].startswith("Bearer")
    good = {"Authorization": "Bearer s3cret-token-for-prometheus"}
    status, text = scrape(app, headers=good, environ_base={"REMOTE_ADDR": "198.51.100.1"})
    assert status == 200 and "civic311_calls_total" in text
    for bad in ("Bearer wrong-token-wrong-token", "Basic czNjcmV0", "Bearer"):
        assert scrape(app, headers={"Authorization": bad}, **outside)[0] == 401, bad


def test_bad_metrics_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="metrics_allow: 'ten/8'"):
        load_settings(data_dir=str(tmp_path), metrics_allow=["ten/8"])
    with pytest.raises(ValueError, match="metrics_token"):
        load_settings(data_dir=str(tmp_path), metrics_token="short")


def dashboard_exprs() -> list[str]:
    doc = json.loads((ROOT / "deploy/grafana/dashboards/civic311.json").read_text())
    assert doc["uid"] and doc["title"]
    exprs = [t["expr"] for p in doc["panels"] for t in p.get("targets", [])]
    exprs += [v["query"] if isinstance(v["query"], str) else v["query"]["query"]
              for v in doc.get("templating", {}).get("list", []) if v.get("type") == "query"]
    return exprs


def test_dashboard_queries_only_metrics_the_exposition_has(app: Any,
                                                           known_calls: datetime) -> None:
    from prometheus_client import generate_latest

    from telephony.agi_metrics import AgiMetrics

    daemon = AgiMetrics("node-a")  # the daemon's endpoint, after one request
    daemon.observe("ivr", "ok", 12.5, 0.004)
    exposed = {name for name, _ in samples(scrape(app)[1])}
    exposed |= {name for name, _ in samples(generate_latest(daemon.registry).decode())}
    exprs = dashboard_exprs()
    assert len(exprs) >= 6
    for e in exprs:  # no PromQL parser in Python: at least every bracket closes
        for a, b in ("()", "{}", "[]"):
            assert e.count(a) == e.count(b), e
    used = {m for e in exprs for m in re.findall(r"\bcivic311_[a-z0-9_]+", e)}
    assert used and used <= exposed, used - exposed
    # the compose file provisions it, and Prometheus scrapes the web's /metrics
    prom = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    assert jobs["civic311-web"].get("metrics_path", "/metrics") == "/metrics"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for service in ("prometheus", "grafana"):
        assert compose["services"][service]["profiles"] == ["monitoring"]
    provisioning = yaml.safe_load(
        (ROOT / "deploy/grafana/provisioning/dashboards/civic311.yml").read_text())
    assert provisioning["providers"][0]["options"]["path"]
