"""Property-based run of the OpenAPI description against the app (schemathesis): no 5xx,
responses conform to the schema. Bounded (few examples per operation) to keep the suite fast,
and derandomized: every run sends the same cases, so CI never flakes on a new draw (a failure
found by a wider, random run is fixed in the app or documented in openapi.yaml, then kept here
as an explicit case)."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from crm_bridge.tickets import service
from crm_bridge.tickets.draft import TicketDraft
from foundation.db import Database

EXAMPLES = 25


def test_open311_fuzz(app: Any, catalog: Database, api_key: str) -> None:
    with catalog.session() as s:
        t = service.open_ticket(
            s, TicketDraft(
                "pothole", attributes={"size": "small"}, address="1 Main St"
            ))
        service.close(s, t, "dot1", "resolved", "Patched the hole")
    schema = schemathesis.openapi.from_wsgi("/open311/v2/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) == 7

    for op in operations:
        @given(case=op.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            if case.method == "POST" and isinstance(case.body, dict) and case.body.get("lat"):
                case.body["api_key"] = api_key  # half the posts reach past the key check
            # Cross-field rules (90-day span, lat+long together, a service's required
            # attributes) cannot be said in OpenAPI: a 400 for them is correct, not a failure.
            case.call_and_validate(excluded_checks=[checks.positive_data_acceptance])

        run()
