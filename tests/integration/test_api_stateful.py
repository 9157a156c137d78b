"""Sequences of calls with real ids: schemathesis's state machine follows the OpenAPI links of
``center/openapi.yaml`` (open or list a ticket, then read, act on, comment on, transfer and
link that same ticket; queue an agent command, then read its status) and of Open311's
document (post a request, then GET it by the returned id and token), on PostgreSQL. No step
gives a 5xx or an answer that breaks its document, and the linked steps really ran: each test
counts the transitions that carried a value from an earlier answer into a later call and
reached a real resource (a 2xx, or a 409 from that resource's own state), so a link that stops
resolving fails the test instead of leaving the run to random ids. Bounded and derandomized,
like ``test_api_fuzz.py``."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks

from crm_bridge.seed import seed_catalog
from crm_bridge.tickets import service
from crm_bridge.tickets.draft import TicketDraft
from foundation.db import Database
from tests.conftest import csrf_token, login

SCENARIOS = 40
STEPS = 6
BOUNDED = settings(max_examples=SCENARIOS, stateful_step_count=STEPS, deadline=None,
                   database=None, derandomize=True, phases=[Phase.generate],
                   suppress_health_check=list(HealthCheck))
# a type with no required attribute, so a generated draft can be opened (and then followed)
OPENABLE_TYPE = "streetlight-out"
# the staff operations the links join (the others are fuzzed call by call in test_api_fuzz.py)
STAFF_LINKED = ["listTickets", "openTicket", "getTicket", "ticketAction", "commentTicket",
                "transferTicket", "linkTicket", "desktopType", "agentCommand", "agentTransfer",
                "agentCommandStatus"]
# A linked step reached the resource it named: done, or refused by that resource's own state
# (a closure with no reason, a ticket linked under itself); random ids get a 404 or a 400.
REACHED = {200, 201, 202, 409}
# Cross-field rules (a service's attributes, lat with long, the lifecycle's guards) cannot be
# said in OpenAPI: a 4xx for them is correct, not a failure. The session is given to every
# call, so a step generated without it (a "negative" case) is answered as logged in: the
# refusal of invalid data, call by call, is test_api_fuzz.py's part. A 404 after a create is
# not a lost resource: it names what the body referred to (a transfer's agency, a link's
# parent: "no agency 'W'"), as for a ticket the user may not see.
EXCLUDED = [checks.positive_data_acceptance, checks.missing_required_header, checks.ignored_auth,
            checks.negative_data_rejection, checks.ensure_resource_availability]


def run_linked(schema: Any, credentials: dict[str, Any], reach: Any,
               scenarios: int = SCENARIOS) -> Counter[str]:
    """Run the schema's state machine with ``credentials`` (``case.call`` keyword arguments:
    headers, cookies) on every call; ``reach(case)`` may make a generated body reach past a
    rule OpenAPI cannot state. Returns, per link name, how many linked steps used a value
    from an earlier answer and reached a real resource."""
    linked: Counter[str] = Counter()

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            reach(case)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return credentials

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None,
                              **kwargs: Any) -> None:
            case.validate_response(response, excluded_checks=EXCLUDED, transport_kwargs=kwargs,
                                   recorder=self.recorder)

        def step(self, input: Any) -> Any:
            output = super().step(input)
            t = input.transition
            if t is not None and not t.is_inferred and input.is_applied \
                    and output.response.status_code in REACHED:
                # the id reads "GET /x -> [200] Name -> GET /y"
                linked[t.id.split(" -> ")[1].split("] ", 1)[1]] += 1
            return output

    Workflow.run(settings=settings(BOUNDED, max_examples=scenarios))
    return linked


def openable(case: Any, fields: dict[str, str]) -> None:
    """Make about half the generated drafts (those with a description) a request that opens,
    so the links from it have a ticket to follow: random text almost never passes the
    validation (control characters, a service type that exists, a location). The generated
    description is kept when it is storable text."""
    body = case.body
    if isinstance(body, dict) and "description" in body:
        text = body["description"] if isinstance(body["description"], str) else ""
        case.body = {"service_code": OPENABLE_TYPE, **fields,
                     "description": text if text.isprintable() else "Light out"}


def staff_credentials(app: Any, username: str, page: str) -> dict[str, Any]:
    """The session of ``username`` logged in through the form, as ``case.call`` arguments. A
    cookie, not a ``Cookie`` header: werkzeug's test client replaces that header with its own
    (empty) cookie jar, so a header would reach the app as no session at all."""
    c = app.test_client()
    login(c, username)
    token = csrf_token(c, page)
    cookie = c.get_cookie("session")
    assert cookie is not None
    return {"headers": {"X-CSRFToken": token}, "cookies": {"session": cookie.value}}


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_staff_api_stateful(app: Any, database: Database, users: dict[str, str]) -> None:
    with database.session() as s:
        seed_catalog(s, None)
        service.open_ticket(s, TicketDraft(OPENABLE_TYPE, address="1 Main St"))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app).include(
        operation_id=STAFF_LINKED)

    def reach(case: Any) -> None:
        if case.operation.label == "POST /api/v1/crm/tickets":
            openable(case, {"address": "1 Main St"})

    linked = run_linked(schema, staff_credentials(app, users["supervisor"], "/crm/queue"), reach)
    # a ticket opened or listed, read and changed by its real number (how often each link
    # is taken depends on what ran before in the process: the floors leave room for that)
    assert linked["GetTicket"] + linked["GetFirstTicket"] >= 3, linked
    assert len(linked) >= 2 and sum(linked.values()) >= 8, linked


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_open311_stateful(app: Any, database: Database) -> None:
    from crm_bridge.open311.apikeys import create_key

    with database.session() as s:
        seed_catalog(s, None)
        key = create_key(s, "test-client")
        service.open_ticket(s, TicketDraft(OPENABLE_TYPE, address="1 Main St"))
    schema = schemathesis.openapi.from_wsgi("/open311/v2/openapi.json", app)

    def reach(case: Any) -> None:
        if case.operation.label == "POST /requests.{format}":
            openable(case, {"address_string": "1 Main St", "api_key": key})

    linked = run_linked(schema, {}, reach, scenarios=2 * SCENARIOS)
    # the request just posted, read back by the id it was given or by its token; twice the
    # scenarios: which of the two a run takes shifts with what ran before in the process
    # (12 by id with 80 alone, 0 with 40 after the Twilio fuzz, 2 by id and 5 by token in a
    # whole suite's run), so the floor counts both
    assert linked["GetCreatedRequest"] + linked["GetCreatedToken"] >= 3, linked
    assert sum(linked.values()) >= 8, linked
