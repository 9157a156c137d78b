"""Personal data past its retention is erased by ``civic311 privacy erase`` (the worker's
hourly jobs run the same functions): caller ID on call records, IVR calls and finished
callbacks becomes a pseudonym, residents' contact data on tickets closed long enough ago is
emptied (and the addresses their notices went to), voicemail audio is removed. Each erasure
is in the audit log; a message whose file cannot be removed fails alone, is retried with
backoff and never stops the others; the call report, the public performance page and open
data read the same before and after."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from acd.models import CallRecord
from center.cli import cli
from center.worker import collect_jobs
from crm_bridge.config import from_settings
from crm_bridge.models import Notification, Ticket
from crm_bridge.seed import seed_catalog
from crm_bridge.tickets import service
from crm_bridge.tickets.draft import TicketDraft
from foundation.db import Database, utcnow
from foundation.erasure import pseudonym
from foundation.settings import Settings
from ivr import voicemail
from ivr.callback.models import CallbackRequest
from ivr.models import IvrCall
from telephony.install import locate
from tests.conftest import login

NUMBER = "+17185550100"
ENV = {"CIVIC311_RETENTION_CALLER_NUMBER_DAYS": "60",
       "CIVIC311_RETENTION_TICKET_CONTACT_DAYS": "30",
       "CIVIC311_RETENTION_VOICEMAIL_DAYS": "20", "CIVIC311_ASTERISK_BINARY": "external"}


def _cli(settings: Settings, db: Database, *args: str) -> Any:
    res = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "--database-url",
                                   db.url, "privacy", *args], env=ENV)
    assert res.exit_code == 0, res.output
    return [json.loads(line) for line in res.output.splitlines() if line.strip()]


def _seed(settings: Settings, db: Database, folder: Path) -> dict[str, Any]:
    now = utcnow()

    def ago(days: float) -> Any:
        return now - timedelta(days=days)

    ids: dict[str, Any] = {}
    with db.session() as s:
        for key, days, number, outcome in (("c1", 100, NUMBER, "answered"),
                                           ("c2", 98, NUMBER, "answered"),
                                           ("c3", 62, NUMBER, "answered"),
                                           ("c4", 58, NUMBER, "answered"),  # kept: a repeat
                                           ("c5", 99, "+17185550199", "abandoned"),
                                           ("c6", 1, NUMBER, "answered")):
            answered = outcome == "answered"
            rec = CallRecord(uniqueid=key, queue="citywide", entered_at=ago(days),
                             answered_at=ago(days) + timedelta(seconds=20) if answered else None,
                             ended_at=ago(days) + timedelta(seconds=200), wait_s=20.0,
                             talk_s=180.0 if answered else None, hold_s=0, acw_s=0,
                             agent="100" if answered else None, outcome=outcome, source="ami",
                             caller_number=number, caller_name="Ana Diaz")
            s.add(rec)
            s.flush()
            ids[key] = rec.id
        for key, days, source, where in (("v1", 25, "asterisk", "1790000000.1.wav"),
                                         ("v2", 26, "asterisk", "poison.wav"),
                                         ("v3", 30, "twilio", "https://api.twilio.com/RE9"),
                                         ("v4", 5, "asterisk", "1790000000.4.wav"),
                                         ("v5", 70, "asterisk", None)):
            call = IvrCall(uniqueid=key, source=source, caller_number=NUMBER,
                           started_at=ago(days), ended_at=ago(days),
                           outcome="voicemail" if where else "contained", voicemail=where,
                           voicemail_s=3.0 if where else None)
            s.add(call)
            s.flush()
            ids[key] = call.id
        for key, days, state in (("cb1", 70, "connected"), ("cb2", 70, "waiting"),
                                 ("cb3", 10, "failed")):
            cb = CallbackRequest(original_uniqueid=key, queue="citywide", number=NUMBER,
                                 dial=f"PJSIP/{NUMBER}@trunk", arrival_at=ago(days),
                                 created_at=ago(days), updated_at=ago(days), state=state)
            s.add(cb)
            s.flush()
            ids[key] = cb.id
        cfg = from_settings(settings)
        for key, opened, closed in (("t1", 50, 40), ("t2", 20, 10), ("t3", 50, None)):
            t = service.open_ticket(s, TicketDraft(
                "pothole", attributes={"size": "small"}, address="350 W 34th St",
                first_name="Ana", last_name="Diaz", email=f"ana.{key}@example.org",
                phone="7185550100", account_id="acct-1", channel="web"),
                now=ago(opened), config=cfg)
            if closed is not None:
                service.close(s, t, "dot1", "resolved", "Filled the hole", now=ago(closed),
                              config=cfg)
            ids[key] = t.id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "1790000000.1.wav").write_bytes(b"RIFF-one")
    (folder / "1790000000.4.wav").write_bytes(b"RIFF-four")
    (folder / "poison.wav").mkdir()  # a "file" unlink refuses: the poison message
    return ids


def _public(app: Any, users: dict[str, str]) -> list[str]:
    """What must not change: the call report (JSON), the performance page, open data."""
    c = app.test_client()
    login(c, users["manager"])
    today = utcnow().date()
    report = c.get(f"/reports/calls?from={today - timedelta(days=110)}&to={today}"
                   "&by=month&format=json")
    assert report.status_code == 200
    return [report.get_data(as_text=True),
            c.get("/performance?format=csv").get_data(as_text=True),
            c.get("/open-data/requests.csv").get_data(as_text=True)]


def test_personal_data_is_erased_on_schedule(app: Any, database: Database, settings: Settings,
                                             users: dict[str, str]) -> None:
    db = database
    with db.session() as s:
        seed_catalog(s, None)
    assert {"acd.erasure", "ivr.erasure", "crm.erasure"} <= {
        j.id for j in collect_jobs(settings, db)}
    folder = voicemail.folder(locate(settings.model_copy(update={"asterisk_binary":
                                                                 "external"})))
    ids = _seed(settings, db, folder)
    before = _public(app, users)
    doc = json.loads(before[0])
    assert doc["repeat_callers"]["repeated"] == 2  # c1 -> c2, and c3 -> c4 across the line

    [run] = _cli(settings, db, "erase")
    assert run == {"call_records": {"erased": 4, "failed": []},
                   "ivr_calls": {"erased": 1, "failed": []},
                   "ivr_callbacks": {"erased": 1, "failed": []},
                   "voicemail": {"erased": 2, "failed": [ids["v2"]]},
                   "crm_tickets": {"erased": 1, "failed": []},
                   "crm_sms_phones": {"erased": 0, "failed": []}}
    assert _public(app, users) == before  # reports, performance, open data: unchanged

    with db.session() as s:
        calls = {r.uniqueid: r for r in s.scalars(select(CallRecord))}
        anon = pseudonym(str(settings.secret_key), NUMBER)
        assert [calls[k].caller_number for k in ("c1", "c2", "c3")] == [anon] * 3
        assert calls["c5"].caller_number.startswith("anon:") and calls["c5"].caller_number != anon
        assert {k: calls[k].caller_name for k in calls} == {
            "c1": None, "c2": None, "c3": None, "c4": "Ana Diaz", "c5": None, "c6": "Ana Diaz"}
        assert (calls["c4"].caller_number, calls["c6"].caller_number) == (NUMBER, NUMBER)
        assert [c.outcome for c in calls.values()].count("answered") == 5  # outcomes stay
        ivr = {c.uniqueid: c for c in s.scalars(select(IvrCall))}
        assert ivr["v5"].caller_number == anon and ivr["v1"].caller_number == NUMBER
        assert (ivr["v1"].voicemail, ivr["v3"].voicemail) == (None, None)
        assert ivr["v1"].voicemail_s == 3.0 and ivr["v1"].outcome == "voicemail"
        assert (ivr["v2"].voicemail, ivr["v4"].voicemail) == ("poison.wav", "1790000000.4.wav")
        cbs = {c.original_uniqueid: c for c in s.scalars(select(CallbackRequest))}
        assert (cbs["cb1"].number, cbs["cb1"].dial) == (anon, "")
        assert cbs["cb2"].number == cbs["cb3"].number == NUMBER  # waiting; too recent
        tickets = {t.id: t for t in s.scalars(select(Ticket))}
        t1, t2, t3 = (tickets[ids[k]] for k in ("t1", "t2", "t3"))
        assert (t1.first_name, t1.last_name, t1.email, t1.phone, t1.account_id) == \
            (None, None, None, None, None)
        assert t1.address == "350 W 34th St" and t1.state == "closed"  # the case stays
        assert (t2.email, t3.email) == ("ana.t2@example.org", "ana.t3@example.org")
        sent = {n.ticket_id: n.recipient for n in s.scalars(
            select(Notification).where(Notification.channel == "email"))}
        assert sent[t1.id] == "(erased)" and sent[t2.id] == "ana.t2@example.org"
    assert not (folder / "1790000000.1.wav").exists()
    assert (folder / "1790000000.4.wav").exists()

    log = _cli(settings, db, "log")
    assert len(log) == 10
    failed = [e for e in log if e["action"] == "failed"]
    assert len(failed) == 1 and failed[0]["id"] == ids["v2"] and failed[0]["attempts"] == 1
    assert "IsADirectoryError" in failed[0]["detail"]
    t1_log = next(e for e in log if e["table"] == "crm_tickets")
    assert t1_log["kind"] == "ticket_contact" and "email" in t1_log["fields"]

    [again] = _cli(settings, db, "erase")  # nothing left; the poison is held back
    assert all(r == {"erased": 0, "failed": []} for r in again.values()), again
    later = (utcnow() + timedelta(hours=1)).isoformat()
    [retry] = _cli(settings, db, "erase", "--at", later)  # due again: tried, fails alone
    assert retry["voicemail"] == {"erased": 0, "failed": [ids["v2"]]}
    failed = [e for e in _cli(settings, db, "log") if e["action"] == "failed"]
    assert len(failed) == 1 and failed[0]["attempts"] == 2  # one row per message, updated
    (folder / "poison.wav").rmdir()
    [fixed] = _cli(settings, db, "erase", "--at", (utcnow() + timedelta(hours=3)).isoformat())
    assert fixed["voicemail"] == {"erased": 1, "failed": []}
    assert _public(app, users) == before
