"""The daemon's own Prometheus exposition: FastAGI request latency, on a small HTTP port.

FastAGI requests happen in the telephony daemon, one asyncio process per node, so these are
ordinary in-process prometheus-client metrics (they restart at zero with the daemon, which
``rate()`` and ``increase()`` read as a counter reset) served by prometheus-client's own
HTTP server on ``daemon_metrics_host:daemon_metrics_port``; the call counters, which every
process must agree on, come from the database through the web's ``/metrics`` instead.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

log = logging.getLogger(__name__)

DURATION_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
FIRST_COMMAND_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class AgiMetrics:
    """``observe`` is a ``telephony.fastagi.Observer``; ``serve`` the HTTP endpoint."""

    def __init__(self, node: str) -> None:
        self.node = node
        self.registry = CollectorRegistry()
        self.duration = Histogram(
            "civic311_fastagi_request_duration_seconds",
            "FastAGI requests from Asterisk, from connection to close (an IVR session), by "
            "route and outcome (ok, hangup, error, no_route, dropped)",
            ["node", "route", "outcome"], buckets=DURATION_BUCKETS_S, registry=self.registry)
        self.first_command = Histogram(
            "civic311_fastagi_first_command_seconds",
            "How long Asterisk waited, after sending a request's headers, for our first AGI "
            "command (the silence a caller hears before the IVR answers)",
            ["node", "route"], buckets=FIRST_COMMAND_BUCKETS_S, registry=self.registry)
        self.requests = Counter("civic311_fastagi_requests", "FastAGI requests by outcome",
                                ["node", "route", "outcome"], registry=self.registry)
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def observe(self, route: str, outcome: str, duration_s: float,
                first_command_s: float | None) -> None:
        self.duration.labels(self.node, route, outcome).observe(duration_s)
        self.requests.labels(self.node, route, outcome).inc()
        if first_command_s is not None:
            self.first_command.labels(self.node, route).observe(first_command_s)

    def serve(self, host: str, port: int) -> AgiMetrics:
        """Start the HTTP endpoint in a thread (port 0: any free port, then see ``port``)."""
        self._server, self._thread = start_http_server(port, host, registry=self.registry)
        return self

    @property
    def port(self) -> int | None:
        return self._server.server_port if self._server is not None else None

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> AgiMetrics:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
