"""Prometheus exposition of today's queue metrics (aggregates only, no caller data).

Occupancy and calls per agent (definitions in ``acd.metrics``) come per queue (label
``queue``) and for all queues together (the ``_all_queues`` gauges, without labels: the
whole is not a sum of the queues, an agent may serve several).
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from acd import definitions, queries
from acd.metrics import staffing
from foundation.db import Database
from foundation.settings import Settings


def exposition(settings: Settings, db: Database,
               period: tuple[datetime, datetime]) -> tuple[bytes, str]:
    registry = CollectorRegistry()
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
    return generate_latest(registry), CONTENT_TYPE_LATEST
