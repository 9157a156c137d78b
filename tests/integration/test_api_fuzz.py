"""The staff JSON API against its OpenAPI document (``center/openapi.yaml``, served at
``/api/v1/openapi.json``): every JSON route of the app is described, and schemathesis over
every operation, on PostgreSQL, as each role that may call it, finds no 5xx and no answer
that breaks the document. Bounded and derandomized (the same cases every run), so it fits
the suite's budget and never flakes on a new draw."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from crm_bridge.seed import seed_catalog
from crm_bridge.tickets import service
from crm_bridge.tickets.draft import TicketDraft
from foundation import heartbeat
from foundation.db import Database
from tests.conftest import csrf_token, login

EXAMPLES = 12
# JSON routes that another document describes, or that are not JSON
OTHER_DOCUMENTS = ("/open311/v2/",)
JSON_PREFIXES = ("/api/", "/status")


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_every_json_route_is_described(app: Any) -> None:
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    described = {(path, method.upper()) for path, ops in doc["paths"].items()
                 for method in ops if method in ("get", "post", "put", "patch", "delete")}
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(JSON_PREFIXES) or rule.rule.startswith(OTHER_DOCUMENTS):
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<int:{arg}>", f"{{{arg}}}").replace(f"<{arg}>", f"{{{arg}}}")
        routes |= {(path, m) for m in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    assert routes - described == set(), "JSON routes missing from center/openapi.yaml"
    assert described - routes == set(), "center/openapi.yaml describes routes the app lacks"


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_staff_api_fuzz(app: Any, database: Database, users: dict[str, str]) -> None:
    with database.session() as s:
        seed_catalog(s, None)
        t = service.open_ticket(s, TicketDraft("pothole", attributes={"size": "small"},
                                               address="1 Main St"))
        service.close(s, t, "dot1", "resolved", "Patched the hole")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) == 30
    sessions = {}
    for role in ("agent", "supervisor", "agency"):
        c = app.test_client()
        login(c, users[role])
        token = csrf_token(c, "/crm/queue" if role != "agent" else "/agent/desktop")
        cookie = c.get_cookie("session")
        assert cookie is not None
        # a cookie, not a Cookie header: werkzeug's test client replaces that header with its
        # own (empty) jar, so the run went as nobody (every call a 401) until this was found
        sessions[role] = {"headers": {"X-CSRFToken": token}, "cookies": {"session": cookie.value}}
    failures = []
    for op in operations:
        with database.session() as s:  # so /status says ok (a 503 is a 5xx): the run is
            for component in ("daemon", "worker"):  # longer than a heartbeat stays fresh
                heartbeat.beat(s, component, True)
        for role, credentials in sessions.items():
            try:
                fuzz(op, credentials)()
            except Exception as exc:  # collect all, to see every failing operation at once
                failures.append(f"{role} {op.label}: {exc}"[:2000])
    assert not failures, "\n\n".join(failures)


def fuzz(op: Any, credentials: dict[str, Any]) -> Any:
    @given(case=op.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        # Cross-field rules (a service's required attributes, lat with long, the lifecycle's
        # guards) cannot be said in OpenAPI: a 4xx for them is correct, not a failure.
        case.call_and_validate(**credentials, excluded_checks=[
            checks.positive_data_acceptance, checks.missing_required_header,
            checks.ignored_auth])

    return run
