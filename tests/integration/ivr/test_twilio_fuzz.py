"""Every Twilio webhook (the IVR's TwiML, the ACD's legs and queues, status, recording and
callback callbacks) fed hypothesis-made forms with hostile CallSid, From, Digits, CallStatus,
RecordingUrl, QueueTime... and hostile path ids and query values, each request signed as
Twilio signs it, on PostgreSQL: never a 5xx, and what comes back is well-formed TwiML or an
empty answer. The same routes refuse an unsigned and a badly signed request (403). The list
of routes is read from the app's url_map, so a new webhook is fuzzed without a line here; a
path argument that is not an id must be given values here, or the test fails. Derandomized,
like the other fuzz tiers."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import unquote, urlencode
from xml.etree import ElementTree

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.routing import IntegerConverter

from crm_bridge.seed import seed_catalog
from foundation.db import Database
from tests.integration.ivr.test_twilio import BASE, TOKEN
from tests.support.hostile import hostile_text

EXAMPLES = 25
# what Twilio posts (and what the views read), and the query values our own TwiML puts in the
# URLs it gives Twilio (menu state, language, queue, offer, transfer target)
FIELDS = ("CallSid", "From", "To", "AccountSid", "Digits", "CallStatus", "CallDuration",
          "DialCallStatus", "DialCallDuration", "QueueSid", "QueueTime", "QueuePosition",
          "QueueResult", "RecordingUrl", "RecordingSid", "RecordingStatus",
          "RecordingDuration")
QUERY = ("s", "lang", "q", "o", "to")
# a call as Twilio describes it, under the drawn fields: so most cases pass the first checks
# (a CallSid, a caller) and the hostile values reach the code behind them
CALL = {"CallSid": "CA-fuzz", "From": "+12125550999", "To": "+15550003110", "AccountSid": "AC1"}
IDS = (0, 1, 2**31 - 1, 2**31, 10**20)  # every path argument of a webhook is a row id
UNSIGNED = ("/twilio/notices/",)  # Twilio fetches <Play> URLs without a signature


def webhooks(app: Flask) -> list[Any]:
    return sorted((r for r in app.url_map.iter_rules() if r.rule.startswith("/twilio/")
                   and "POST" in (r.methods or set())), key=lambda r: r.rule)


def path_of(rule: Any, value: int) -> str:
    path = rule.rule
    for arg, converter in rule._converters.items():
        assert isinstance(converter, IntegerConverter), f"{rule.rule}: {arg} needs values here"
        path = path.replace(f"<int:{arg}>", str(value))
    return path


@pytest.fixture
def twilio_app(app: Flask, database: Database) -> Flask:
    from tests.integration.ivr.test_twilio import write_menu

    settings = app.extensions["civic311.settings"]
    settings.twilio_auth_token, settings.public_base_url = TOKEN, BASE
    settings.twilio_account_sid, settings.twilio_from_number = "AC1", "+15550003110"
    write_menu(settings.data_dir, closed_today=False)
    with database.session() as s:
        seed_catalog(s, None)
    return app


def sign_and_post(client: Any, path: str, form: dict[str, str]) -> Any:
    sig = RequestValidator(TOKEN).compute_signature(BASE + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": sig})


def check_answer(resp: Any, what: str) -> None:
    body = resp.get_data(as_text=True)
    assert resp.status_code < 500, f"{what}: {resp.status_code} {body[:500]}"
    if body.strip() and "xml" in (resp.content_type or ""):
        try:
            ElementTree.fromstring(body.encode())
        except ElementTree.ParseError as exc:
            raise AssertionError(f"{what}: not well-formed TwiML ({exc}): {body[:500]}") from exc


def fuzz(client: Any, rule: Any, menu_state: str) -> Any:
    """Hypothesis over one webhook; ``menu_state`` is a real ``s`` of the IVR (from the first
    Gather), so the menu's steps see hostile keys, not only a state that does not parse."""
    queries = st.one_of(
        st.dictionaries(st.sampled_from(QUERY), hostile_text(), max_size=2),
        st.fixed_dictionaries({"s": st.just(menu_state)}, optional={"lang": hostile_text()}),
        st.fixed_dictionaries({"o": st.sampled_from(("1", "0", "²", "١", str(10**30)))}))

    @given(form=st.dictionaries(st.sampled_from(FIELDS), hostile_text(), max_size=6),
           query=queries, value=st.sampled_from(IDS))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(form: dict[str, str], query: dict[str, str], value: int) -> None:
        form = {**CALL, **form}
        path = path_of(rule, value) + (f"?{urlencode(query)}" if query else "")
        check_answer(sign_and_post(client, path, form), f"POST {path} {form!r}")

    return run


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_every_twilio_webhook_survives_hostile_forms(twilio_app: Flask) -> None:
    client = twilio_app.test_client()
    rules = webhooks(twilio_app)
    assert len(rules) >= 14, [r.rule for r in rules]
    first = sign_and_post(client, "/twilio/voice", CALL)
    gather = re.search(r'<Gather action="[^"]*\?s=([^"&]+)', first.get_data(as_text=True))
    assert gather, first.get_data(as_text=True)
    failures = []
    for rule in rules:
        run = fuzz(client, rule, unquote(unescape(gather.group(1))))
        try:
            run()
        except Exception as exc:  # collect all, to see every failing webhook at once
            failures.append(f"{rule.rule}: {exc}"[:3000])
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_every_twilio_webhook_refuses_unsigned_and_forged_requests(twilio_app: Flask) -> None:
    client = twilio_app.test_client()
    form = {"CallSid": "CA-forged", "From": "+12125550999", "Digits": "1"}
    for rule in webhooks(twilio_app):
        path = path_of(rule, 1)
        forged = RequestValidator("not-the-token").compute_signature(BASE + path, form)
        assert client.post(path, data=form).status_code == 403, path
        assert client.post(path, data=form,
                           headers={"X-Twilio-Signature": forged}).status_code == 403, path
