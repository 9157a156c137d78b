"""Prometheus exposition of the queues: counters and histograms by queue and node, live
gauges, goals, and the older "today" gauges (aggregates only, no caller data).

- ``civic311_calls_total{queue,node,outcome}``: finished calls since the beginning, by
  outcome (``acd.counters``: from the database, so every web process and every restart
  agrees); offered = the sum over outcomes, entered a queue = offered - refused.
- ``civic311_queue_wait_seconds{queue,node,outcome}``: histogram of waits (refused calls
  never waited and are left out); its buckets include every service-level answer time, so
  answered within T = the ``outcome="answered"`` bucket ``le=T``.
- ``civic311_call_talk_seconds{queue,node}``: histogram of answered calls' talk time.
- ``civic311_calls_waiting``, ``civic311_agents{state}``: the live board, now.
- ``civic311_*_goal_*``: each queue's goals (``acd.goals``), for dashboards to draw.
- The ``*_today`` gauges (city day so far, no ``node`` label) are kept as they were.
  Occupancy and calls per agent come per queue and for all queues together (the
  ``_all_queues`` gauges, without labels: the whole is not a sum of the queues, an agent
  may serve several).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from acd import counters, definitions, goals, live_store, queries
from acd.live import queue_tiles
from acd.metrics import staffing
from foundation.db import Database
from foundation.settings import Settings

AGENT_STATES = ("available", "ringing", "on_call", "wrapup", "paused")


class QueueCollector:
    """Reads the database at each scrape (``acd.counters.current``, the live board)."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings, self.db = settings, db

    def collect(self) -> Iterator[Metric]:
        st = self.settings
        node = st.node_name
        with self.db.session() as s:
            totals, folded_until = counters.current(s, st)
            _, doc = live_store.board(s)
        queues = list(dict.fromkeys([*st.queue_names(), *(q for q, _ in totals)]))
        calls = CounterMetricFamily("civic311_calls", "Finished calls by outcome (short_abandoned:"
                                    f" abandoned within {st.short_abandon_s} s)",
                                    labels=["queue", "node", "outcome"])
        wait = HistogramMetricFamily("civic311_queue_wait_seconds",
                                     "Time callers waited in the queue, by outcome (refused "
                                     "calls left out)", labels=["queue", "node", "outcome"])
        talk = HistogramMetricFamily("civic311_call_talk_seconds", "Talk time of answered calls",
                                     labels=["queue", "node"])
        wb, tb = counters.wait_bounds(st), counters.talk_bounds(st)
        for q in queues:
            for outcome in counters.OUTCOMES:
                c = totals.get((q, outcome)) or counters.Counts(wait=[0] * len(wb),
                                                                talk=[0] * len(tb))
                calls.add_metric([q, node, outcome], c.calls)
                if outcome != "refused":
                    wait.add_metric([q, node, outcome], _buckets(wb, c.wait, c.calls),
                                    c.wait_sum_s)
                if outcome == "answered":
                    talk.add_metric([q, node], _buckets(tb, c.talk, c.calls), c.talk_sum_s)
        yield from (calls, wait, talk)
        folded = GaugeMetricFamily("civic311_calls_folded_until_timestamp_seconds",
                                   "Calls that entered before this instant are read from the "
                                   "folded totals, the rest from the call records",
                                   labels=["node"])
        if folded_until is not None:
            folded.add_metric([node], folded_until.timestamp())
        yield folded
        yield from _live(st, doc, node)
        yield from _goals(st, node)


def _buckets(bounds: tuple[float, ...], cumulative: list[int],
             total: int) -> list[tuple[str, float]]:
    return [*((repr(float(b)), n)  # le="30.0", as prometheus-client writes it
               for b, n in zip(bounds, cumulative, strict=True)),
            ("+Inf", total)]


def _live(st: Settings, doc: dict[str, object], node: str) -> Iterator[Metric]:
    waiting = GaugeMetricFamily("civic311_calls_waiting", "Callers waiting in the queue now",
                                labels=["queue", "node"])
    agents = GaugeMetricFamily("civic311_agents", "Agents of the queue by state now (paused in "
                               "this queue unless on a call or ringing)",
                               labels=["queue", "node", "state"])
    d = definitions.from_settings(st)
    for tile in queue_tiles(doc, {}, st.queue_names(), d):
        waiting.add_metric([tile["queue"], node], tile["waiting"])
        for state in AGENT_STATES:
            agents.add_metric([tile["queue"], node, state], tile["agents"].get(state, 0))
    yield from (waiting, agents)


def _goals(st: Settings, node: str) -> Iterator[Metric]:
    labels = ["queue", "node"]
    sl = GaugeMetricFamily("civic311_service_level_goal_ratio", "Service level goal: the share "
                           "answered within the goal's answer time", labels=labels)
    answer = GaugeMetricFamily("civic311_service_level_goal_answer_seconds",
                               "Answer time T of the service level goal", labels=labels)
    abandon = GaugeMetricFamily("civic311_abandon_rate_goal_ratio",
                                "Abandon rate goal (at most)", labels=labels)
    asa = GaugeMetricFamily("civic311_asa_goal_seconds", "Average speed of answer goal (at most)",
                            labels=labels)
    for q in st.queue_names():
        g = goals.goals_for(st, q)
        sl.add_metric([q, node], g.service_level)
        answer.add_metric([q, node], g.answer_s)
        abandon.add_metric([q, node], g.abandon_rate)
        asa.add_metric([q, node], g.asa_s)
    yield from (sl, answer, abandon, asa)


def exposition(settings: Settings, db: Database,
               period: tuple[datetime, datetime]) -> tuple[bytes, str]:
    registry = CollectorRegistry()
    registry.register(QueueCollector(settings, db))
    _today(registry, settings, db, period)
    return generate_latest(registry), CONTENT_TYPE_LATEST


def _today(registry: CollectorRegistry, settings: Settings, db: Database,
           period: tuple[datetime, datetime]) -> None:
    d = definitions.from_settings(settings)
    labels = ["queue"]
    counts = {
        name: Gauge(f"civic311_calls_{name}_today", f"Calls {name} today (city day)", labels,
                    registry=registry)
        for name in ("offered", "answered", "abandoned", "short_abandoned", "timed_out",
                     "refused", "not_served")
    }
    sl = Gauge("civic311_service_level_today",
               f"Service level today (definition {d.service_level.value}: "
               f"{definitions.SERVICE_LEVEL[d.service_level]})", labels + ["threshold_s"],
               registry=registry)
    asa = Gauge("civic311_asa_seconds_today", "Average speed of answer today", labels,
                registry=registry)
    occupancy = Gauge("civic311_agent_occupancy_today",
                      "Agent occupancy today: handle time / staffed (logged in, not paused) time",
                      labels, registry=registry)
    per_agent = Gauge("civic311_calls_per_agent_today",
                      "Answered calls today per distinct agent who answered", labels,
                      registry=registry)
    occupancy_all = Gauge("civic311_agent_occupancy_all_queues_today",
                          "Agent occupancy today over every staffed agent", registry=registry)
    per_agent_all = Gauge("civic311_calls_per_agent_all_queues_today",
                          "Answered calls today per distinct agent who answered, all queues",
                          registry=registry)
    with db.session() as s:
        answered, seconds = queries.staffing_inputs(s, *period)
        whole = staffing(answered, seconds)
        if whole.occupancy is not None:
            occupancy_all.set(whole.occupancy)
        if whole.calls_per_agent is not None:
            per_agent_all.set(whole.calls_per_agent)
        for queue in settings.queue_names():
            staff = staffing(answered, seconds, queue)
            if staff.occupancy is not None:
                occupancy.labels(queue).set(staff.occupancy)
            if staff.calls_per_agent is not None:
                per_agent.labels(queue).set(staff.calls_per_agent)
            summary = queries.summary(s, *period, queue, settings.sl_thresholds_s,
                                      settings.short_abandon_s)
            data = summary.as_dict(d.service_level, d.abandon_rate)
            for name, gauge in counts.items():
                gauge.labels(queue).set(float(data[name]))  # type: ignore[arg-type]
            for t in settings.sl_thresholds_s:
                value = summary.service_level(t, d.service_level)
                if value is not None:
                    sl.labels(queue, str(t)).set(value)
            if summary.asa_s is not None:
                asa.labels(queue).set(summary.asa_s)
