"""Scheduled reports through a real SMTP server (aiosmtpd) over seeded history: the mail's
numbers equal the report pages' and the records', the CSV parses, the PDF renders with
pdftoppm; a server that is down is retried and the report later arrives once; a period is
never sent twice; only managers reach the page."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from acd.models import CallRecord
from center.history import HistoryOptions, seed_history
from center.seed import seed_demo
from center.worker import collect_jobs
from crm_bridge.models import Ticket
from crm_bridge.scheduled import delivery
from crm_bridge.scheduled.models import ReportSend, ReportSubscription
from crm_bridge.scheduled.periods import Frequency, latest_due
from foundation.db import utcnow
from tests.conftest import csrf_token, login
from tests.integration.crm_bridge.conftest import Inbox, free_port

PAST = HistoryOptions(months=1.5, volume=40, tickets_per_day=4, seed=13, plan=False)
PATH = "/crm/reports/subscriptions"


def _subscribe(client, **form: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, PATH)
    return client.post(PATH, data={"csrf_token": token, **form})


def _backdate(db, days: int = 60) -> None:  # type: ignore[no-untyped-def]
    """Subscriptions made ``days`` ago, so the latest period is due for them."""
    with db.session() as s:
        for sub in s.scalars(sa.select(ReportSubscription)):
            sub.created_at = utcnow() - timedelta(days=days)


def _html_figures(html: str, table: str) -> dict[str, str]:
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return dict(re.findall(r'data-key="(\w+)"><th[^>]*>[^<]*</th>\s*<td[^>]*>([^<]*)</td>', body))


def test_monthly_report_arrives_with_csv_and_pdf(settings, database, app, users, smtp,  # type: ignore[no-untyped-def]
                                                 tmp_path) -> None:
    list(seed_demo(settings, database))
    list(seed_history(settings, database, PAST))
    manager = app.test_client()
    assert login(manager, users["manager"]).status_code == 302
    res = _subscribe(manager, name="Council clerk", email="clerk@council.example",
                     frequency="monthly", kind="summary", agency="")
    assert res.status_code == 303
    assert _subscribe(manager, name="Sanitation lead", email="lead@dsny.example",
                      frequency="monthly", kind="requests", agency="DSNY").status_code == 303
    assert "Council clerk" in manager.get(PATH).get_data(as_text=True)
    _backdate(database)

    assert delivery.run(database, settings) == 2
    [mail] = smtp.to("clerk@council.example")
    tz = ZoneInfo(settings.timezone)
    period, _ = latest_due(Frequency.MONTHLY, utcnow().astimezone(tz), settings.report_send_hour)
    assert period.first.day == 1 and (period.last + timedelta(days=1)).day == 1
    assert period.first.strftime("%B %Y") in mail["Subject"]

    # the HTML numbers are the report pages' for the same days ...
    html = mail.get_body(preferencelist=("html",)).get_content()
    calls, requests = _html_figures(html, "calls"), _html_figures(html, "requests")
    page = manager.get(f"/reports/calls?from={period.first}&to={period.last}&by=month"
                       "&format=json").get_json()["total"]
    assert int(calls["offered"]) == page["offered"] and int(calls["answered"]) == page["answered"]
    assert int(calls["abandoned"]) == page["abandoned"]
    crm = manager.get(f"/crm/reports/requests?from={period.first}&to={period.last}"
                      "&format=json").get_json()
    assert int(requests["received"]) == crm["received"]["total"]
    assert int(requests["closed"]) == crm["outcomes"]["closed"]
    assert int(requests["on_time"]) == crm["outcomes"]["on_time"]
    # ... and the records' own count
    t0 = datetime.combine(period.first, time(), tz)
    t1 = datetime.combine(period.last + timedelta(days=1), time(), tz)
    with database.session() as s:
        offered = sum(1 for r in s.scalars(sa.select(CallRecord).where(
            CallRecord.entered_at >= t0, CallRecord.entered_at < t1,
            CallRecord.outcome.is_not(None))) if not (r.ivr_path or "").startswith("callback:"))
        received = s.scalar(sa.select(sa.func.count(Ticket.id)).where(
            Ticket.requested_at >= t0, Ticket.requested_at < t1, Ticket.number.is_not(None)))
    assert int(calls["offered"]) == offered > 0
    assert int(requests["received"]) == received > 0

    # the CSV: one row per day and the total, which the days add up to
    files = {p.get_filename(): p for p in mail.iter_attachments()}
    stem = f"civic311-monthly-{period.first}"
    assert set(files) == {f"{stem}.csv", f"{stem}.pdf"}
    rows = list(csv.DictReader(io.StringIO(files[f"{stem}.csv"].get_content())))
    assert [r["day"] for r in rows[:-1]] == [str(period.first + timedelta(days=i))
                                             for i in range(period.days)]
    assert rows[-1]["day"] == "total" and int(rows[-1]["offered"]) == offered
    assert sum(int(r["offered"]) for r in rows[:-1]) == offered
    assert sum(int(r["received"]) for r in rows[:-1]) == received

    # the PDF opens: poppler renders every page
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(files[f"{stem}.pdf"].get_content())
    assert shutil.which("pdftoppm"), "poppler-utils (scripts/system-deps.sh)"
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(tmp_path / "page")],
                   check=True, timeout=60)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 1 and all(p.stat().st_size > 1000 for p in pages)

    # the agency contact gets that agency's requests, as its own workers' page shows them
    [lead] = smtp.to("lead@dsny.example")
    html = lead.get_body(preferencelist=("html",)).get_content()
    assert 'id="calls"' not in html and "(DSNY)" in lead["Subject"]
    agency = app.test_client()
    login(agency, users["agency"])
    own = agency.get(f"/crm/reports/requests?from={period.first}&to={period.last}"
                     "&format=json").get_json()
    assert own["agency"] == "DSNY"
    mine = _html_figures(html, "requests")
    assert int(mine["received"]) == own["received"]["total"] < int(requests["received"])
    assert int(mine["closed"]) == own["outcomes"]["closed"]
    lead_pdf = tmp_path / "lead.pdf"
    lead_pdf.write_bytes(next(p for p in lead.iter_attachments()
                              if p.get_filename().endswith(".pdf")).get_content())
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(lead_pdf), str(tmp_path / "lead")],
                   check=True, timeout=60)
    assert list(tmp_path.glob("lead*.png"))

    # a second run sends nothing: each period is logged as sent
    assert delivery.run(database, settings) == 0
    assert len(smtp.to("clerk@council.example")) == 1 and len(smtp.messages) == 2
    with database.session() as s:
        send = s.scalars(sa.select(ReportSend).join(ReportSubscription)
                         .where(ReportSubscription.name == "Council clerk")).one()
        assert (send.status, send.attempts, send.period_start) == ("sent", 1, period.first)
        assert send.sent_at is not None and send.message_id == mail["Message-ID"]
    log = manager.get(PATH).get_data(as_text=True)
    assert 'data-status="sent"' in log


def test_server_down_is_retried_and_delivered_once(settings, sqlite_db) -> None:  # type: ignore[no-untyped-def]
    db = sqlite_db
    list(seed_demo(settings, db))
    with db.session() as s:
        for name, email, frequency in (("Director", "director@civic.example", "daily"),
                                       ("Typo", "bad\nBcc: x@evil.example", "daily")):
            s.add(ReportSubscription(name=name, email=email, frequency=frequency,
                                     kind="calls", created_by="m1",
                                     created_at=utcnow() - timedelta(days=3)))
    settings.smtp_host, settings.smtp_port = "127.0.0.1", free_port()  # nobody listens
    now = utcnow()
    assert delivery.run(db, settings, now) == 0
    with db.session() as s:
        sends = {x.subscription.name: (x.status, x.attempts, x.last_error)
                 for x in s.scalars(sa.select(ReportSend))}
    assert sends["Director"][:2] == ("pending", 1) and "refused" in sends["Director"][2].lower()
    assert sends["Typo"][:2] == ("failed", 1)  # never retried: no retry fixes the address
    assert delivery.run(db, settings, now + timedelta(seconds=5)) == 0  # backing off
    with db.session() as s:  # a third, removed while its report waits: it is not sent
        s.add(ReportSubscription(name="Gone", email="gone@civic.example", frequency="daily",
                                 kind="calls", created_by="m1",
                                 created_at=utcnow() - timedelta(days=3)))
    delivery.plan(db, settings, now)
    with db.session() as s:
        s.scalars(sa.select(ReportSubscription).where(
            ReportSubscription.name == "Gone")).one().removed_at = utcnow()

    inbox = Inbox()
    inbox.start()
    try:
        settings.smtp_port = inbox.port
        assert delivery.run(db, settings, now + timedelta(seconds=31)) == 1
        assert delivery.run(db, settings, now + timedelta(minutes=10)) == 0
        assert [m["To"] for m in inbox.messages] == ["director@civic.example"]
        [mail] = inbox.messages
        assert [p.get_filename() for p in mail.iter_attachments()][0].endswith(".csv")
        assert len(list(mail.iter_attachments())) == 1  # no PDF for a daily report
    finally:
        inbox.stop()
    assert "crm.scheduled_reports" in {j.id for j in collect_jobs(settings, db)}
    with db.session() as s:
        director = s.scalar(sa.select(ReportSend).join(ReportSubscription)
                            .where(ReportSubscription.name == "Director"))
        assert (director.status, director.attempts, director.last_error) == ("sent", 2, None)
        gone = s.scalar(sa.select(ReportSend).join(ReportSubscription)
                        .where(ReportSubscription.name == "Gone"))
        assert gone.status == "failed" and "removed" in gone.last_error


BAD_FORMS = [
    ({"email": "not-an-address"}, "not an e-mail address"),
    ({"email": "a@b.example\r\nBcc: x@evil.example"}, "line breaks"),
    ({"frequency": "hourly"}, "frequency must be one of"),
    ({"kind": "gossip"}, "report must be one of"),
    ({"agency": "NOPE"}, "no agency"),
    ({"name": ""}, "a name is needed"),
]


def test_bad_form_says_why_and_saves_nothing(settings, database, app, users) -> None:  # type: ignore[no-untyped-def]
    list(seed_demo(settings, database))
    manager = app.test_client()
    login(manager, users["manager"])
    for form, problem in BAD_FORMS:
        res = _subscribe(manager, **{"name": "Ann", "email": "ann@civic.example",
                                     "frequency": "weekly", "kind": "calls", "agency": "",
                                     **form})
        assert res.status_code == 400 and problem in res.get_data(as_text=True), form
    with database.session() as s:
        assert s.scalar(sa.select(sa.func.count(ReportSubscription.id))) == 0


def test_page_by_role_and_removal(settings, database, app, users) -> None:  # type: ignore[no-untyped-def]
    list(seed_demo(settings, database))
    agent = app.test_client()
    login(agent, users["agent"])
    assert agent.get(PATH).status_code == 403
    manager = app.test_client()
    login(manager, users["manager"])
    assert manager.get(PATH).status_code == 200
    assert _subscribe(manager, name="Sanitation lead", email="lead@dsny.example",
                      frequency="weekly", kind="requests", agency="DSNY").status_code == 303
    with database.session() as s:
        sub = s.scalars(sa.select(ReportSubscription)).one()
        assert sub.agency is not None and sub.agency.code == "DSNY"
        sub_id = sub.id
    remove = f"{PATH}/{sub_id}/remove"
    assert agent.post(remove, data={"csrf_token": csrf_token(agent, "/login")}).status_code == 403
    assert manager.post(remove).status_code == 400  # no CSRF token
    assert manager.post(remove, data={"csrf_token": csrf_token(manager, PATH)}).status_code == 303
    _backdate(database)
    assert delivery.plan(database, settings, utcnow()) == 0  # removed: nothing more planned
    assert "Sanitation lead" not in manager.get(PATH).get_data(as_text=True).split(
        'id="subscriptions"')[1].split("</table>")[0]
