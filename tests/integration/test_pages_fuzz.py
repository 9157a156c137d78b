"""Every page (every GET route of the url_map outside the JSON APIs, Open311 and the Twilio
webhooks, which have fuzz tests of their own) with hostile query values and path values, as
the role that may see it, on PostgreSQL: never a 5xx, never a traceback; a bad value is a
400, a page saying what is wrong, or ignored.

The query names probed on a page are those its view's module reads (``args.get("from")``,
``args["to"]``, ``request.values.get("form")``..., in the view's module and in the modules it
hands ``request.args`` to: read from the source, so a new parameter is probed without a line
here), all at once with each hostile value in turn, then in hypothesis's mixes. A new path
argument must be given values in ``PATH_VALUES``, or the test fails."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import IntegerConverter

from crm_bridge.seed import seed_catalog
from crm_bridge.tickets import service
from crm_bridge.tickets.draft import TicketDraft
from foundation.auth import _ACCESS
from foundation.db import Database
from foundation.users import Role
from tests.conftest import login
from tests.support.hostile import HOSTILE, NUL, hostile_text

EXAMPLES = 4
OTHER_TESTS = ("/api/", "/status", "/open311/", "/twilio/", "/metrics")
# not pages: an endless event stream (the wallboard's), files served as they are
NOT_PAGES = {"/wallboard/stream", "/static/<path:filename>", "/static/acd/<path:filename>",
             "/places/static/<path:filename>", "/portal/static/<path:filename>"}
# names that helpers read for their callers (``_when("from")``, ``parse_day(args.get(n))``)
COMMON = ("from", "to", "day", "queue", "agent", "format", "q", "lang", "page", "next")
READS = re.compile(r"""(?:args|values)(?:\.get\(|\[)\s*["']([A-Za-z_]+)["']""")
TRACEBACK = ("Traceback (most recent call last)", "Internal Server Error")
TEXTS = ("1", "Ω☃", "\u202eevil", "x" * 10_000, "../../etc/passwd", "\x01\x7f")
# the first value of each is a plain one (the seeded ticket's number replaces "number"'s),
# so the page renders and its query is probed past the lookup
PATH_VALUES: dict[str, tuple[str, ...]] = {
    "int": ("1", "0", str(2**31), str(10**30)), "ext": ("100", *TEXTS),
    "uniqueid": ("1700000000.1", *TEXTS), "code": ("pothole", "DOT", *TEXTS),
    "number": ("", *TEXTS, "1" * 40), "name": ("a.wav", *TEXTS),
    "fmt": ("json", "csv", "xml", "Ω☃", "x" * 10_000),
}


def pages(app: Flask) -> list[Any]:
    return sorted((r for r in app.url_map.iter_rules()
                   if "GET" in (r.methods or set()) and not r.rule.startswith(OTHER_TESTS)
                   and r.rule not in NOT_PAGES), key=lambda r: r.rule)


def reads(view: Any) -> tuple[str, ...]:
    """The query names read by the module of ``view`` (``args.get("x")``, and through an
    alias: ``a = request.args``, ``a.get("x")``) and by the modules it passes ``request.args``
    to (``queries.filtered(request.args, ...)``)."""
    fn = inspect.unwrap(view)
    text = Path(inspect.getsourcefile(fn) or "").read_text()
    for alias in set(re.findall(r"(\w+)\.\w+\([^()]*request\.args", text)):
        module = fn.__globals__.get(alias)
        if inspect.ismodule(module):
            text += Path(inspect.getsourcefile(module) or "").read_text()
    names = set(READS.findall(text))
    for alias in set(re.findall(r"(\w+) = request\.args\b", text)):  # a = request.args
        names |= set(re.findall(rf"""\b{alias}(?:\.get\(|\[)\s*["']([A-Za-z_]+)["']""", text))
    return tuple(sorted(names))


def role_for(view: Any) -> str | None:
    """None for a public page; else the first role (not admin, who may see all) allowed."""
    policy = getattr(inspect.unwrap(view), _ACCESS, None)
    if policy is None:
        policy = getattr(view, _ACCESS, None)
    assert policy is not None, f"{view.__name__}: no access policy"
    if policy == "public":
        return None
    others = sorted(set(policy) - {Role.ADMIN.value})
    return others[0] if others else Role.ADMIN.value


def paths(rule: Any, ticket: str) -> list[str]:
    """The rule with a plain value in each argument, then each argument hostile in turn."""
    kinds = {arg: "int" if isinstance(conv, IntegerConverter) else arg
             for arg, conv in rule._converters.items()}
    for arg, kind in kinds.items():
        assert kind in PATH_VALUES, f"{rule.rule}: give {arg} values in PATH_VALUES"

    def fill(chosen: dict[str, str]) -> str:
        path = rule.rule
        for arg, value in chosen.items():
            path = re.sub(rf"<(?:[a-z]+:)?{arg}>", quote(value, safe=""), path)
        return path

    plain = {arg: PATH_VALUES[kind][0] or ticket for arg, kind in kinds.items()}
    return [fill(plain)] + [fill({**plain, arg: v}) for arg, kind in kinds.items()
                            for v in PATH_VALUES[kind][1:]]


def check(resp: Any, what: str) -> None:
    body = resp.get_data(as_text=True)
    assert resp.status_code < 500, f"{what}: {resp.status_code} {body[:800]}"
    assert not any(t in body for t in TRACEBACK), f"{what}: a traceback: {body[:800]}"


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_every_page_survives_hostile_query_and_path_values(
        app: Flask, database: Database, users: dict[str, str]) -> None:
    with database.session() as s:
        seed_catalog(s, None)
        ticket = service.open_ticket(s, TicketDraft("streetlight-out", address="1 Main St")).number
    clients: dict[str | None, Any] = {None: app.test_client()}
    for role in Role:
        clients[role.value] = app.test_client()
        login(clients[role.value], users[role.value])
    rules = pages(app)
    assert len(rules) >= 60, [r.rule for r in rules]
    failures: list[str] = []
    for rule in rules:
        view = app.view_functions[rule.endpoint]
        client, names = clients[role_for(view)], reads(view) + COMMON
        try:
            probe(client, rule, tuple(sorted(set(names))), ticket)
        except Exception as exc:  # collect all, to see every failing page at once
            failures.append(f"{rule.rule} ({role_for(view)}): {exc}"[:1500])
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures)


def probe(client: Any, rule: Any, names: tuple[str, ...], ticket: str) -> None:
    """Each path value; then every hostile value in all the page's names at once (a page
    that refuses the first bad one says so); then hypothesis's mixes of them."""
    every = paths(rule, ticket)
    for path in every:
        check(client.get(path), f"GET {path[:200]}")
    for value in (*HOSTILE, NUL):
        url = f"{every[0]}?{urlencode(dict.fromkeys(names, value))}"
        check(client.get(url), f"GET {url[:300]}")
    mixed(client, every[0], names)()


def mixed(client: Any, base: str, names: tuple[str, ...]) -> Any:
    @given(query=st.dictionaries(st.sampled_from(names), hostile_text(), min_size=1))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(query: dict[str, str]) -> None:
        url = f"{base}?{urlencode(query)}"
        check(client.get(url), f"GET {url[:300]}")

    return run
