"""E-mail in, end to end: a real SMTP client (smtplib) talks to the worker's real SMTP
listener (aiosmtpd), on SQLite and PostgreSQL; the notices it causes are sent by the
notification job to the real test mail server (``Inbox``) and read there, as the resident and
the agency would. A new mail opens a request and keeps its photo; a reply to a notice is a
comment the agency is told of; automatic mail, loops, repeats and floods are refused and
never answered; oversize and junk mail are refused at the door and change nothing."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest
from sqlalchemy import func, select

from crm_bridge.mail_in.models import MailIn
from crm_bridge.mail_in.smtp_listener import Listener
from crm_bridge.models import Notification, Ticket, TicketEvent
from crm_bridge.notify.delivery import deliver_pending
from foundation.db import Database
from foundation.settings import Settings
from tests.integration.crm_bridge.conftest import Inbox, free_port

CITY = "311@civic.example"
ANA = "ana.ruiz@example.org"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture
def mail_in(catalog: Database, settings: Settings, smtp: Inbox) -> Iterator[Listener]:
    """The worker's listener on a free port, with the CRM's notices going to ``smtp``."""
    settings.database_url = catalog.url
    settings.mail_in, settings.mail_in_address = "smtp", CITY
    settings.mail_in_port = free_port()
    settings.mail_in_max_bytes = 200_000
    listener = Listener(settings, catalog)
    listener.start()
    try:
        yield listener
    finally:
        listener.stop()


def letter(subject: str, body: str, sender: str = ANA, photo: bytes | None = None,
           **headers: str) -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = f"Ana Ruiz <{sender}>", CITY, subject
    m["Message-ID"] = make_msgid(domain="example.org")
    for name, value in headers.items():
        m[name.replace("_", "-")] = value
    m.set_content(body)
    if photo is not None:
        m.add_attachment(photo, maintype="image", subtype="png", filename="photo.png")
    return m


def send(listener: Listener, m: EmailMessage, envelope_from: str | None = None) -> None:
    with smtplib.SMTP("127.0.0.1", listener.port, timeout=30) as c:
        if envelope_from is None:
            c.send_message(m)
        else:  # "" is the null sender (MAIL FROM:<>), which send_message would not use
            c.sendmail(envelope_from, [CITY], m.as_bytes())


def refused_with(listener: Listener, m: EmailMessage) -> int:
    with pytest.raises(smtplib.SMTPResponseException) as err:
        send(listener, m)
    return int(err.value.smtp_code)


def counts(db: Database) -> tuple[int, int, int]:
    """(tickets, notifications, mail log rows)."""
    with db.session() as s:
        return tuple(s.scalar(select(func.count()).select_from(model)) or 0  # type: ignore
                     for model in (Ticket, Notification, MailIn))


def only_ticket(db: Database) -> dict[str, Any]:
    with db.session() as s:
        t = s.scalars(select(Ticket)).one()
        return {"number": t.number, "channel": t.channel, "email": t.email,
                "code": t.service_type.code, "description": t.description,
                "media_url": t.media_url, "notify_email": t.notify_email,
                "agency_email": t.agency.email, "id": t.id}


def outcomes(db: Database) -> list[tuple[str, str]]:
    with db.session() as s:
        return [(r.outcome, r.reason) for r in s.scalars(select(MailIn).order_by(MailIn.id))]


def test_a_mail_opens_a_request_keeps_its_photo_and_answers(
        mail_in: Listener, catalog: Database, settings: Settings, smtp: Inbox,
        app: Any) -> None:
    send(mail_in, letter("Street light out", "The street light outside the school has been "
                         "dark for a week.", photo=PNG))
    t = only_ticket(catalog)
    assert t["channel"] == "email" and t["email"] == ANA and t["notify_email"]
    assert t["code"] == "streetlight-out"  # by its keywords
    assert t["description"].startswith("Street light out\n\nThe street light outside")
    assert app.test_client().get(t["media_url"]).data == PNG  # the photo, as staff open it
    assert deliver_pending(catalog, settings) == 1
    [reply] = smtp.to(ANA)
    assert t["number"] in reply["Subject"] and reply["Auto-Submitted"] == "auto-generated"
    assert f".t{t['number']}@" in reply["Message-ID"]  # a reply to it threads
    assert reply["Reply-To"] == CITY
    body = reply.get_body().get_content()
    assert f"Your service request number is {t['number']}" in body
    assert "Expected completion: " in body and "as soon as possible" not in body
    assert outcomes(catalog) == [("opened", "")]


def test_a_mail_no_type_fits_goes_to_the_general_request(mail_in: Listener,
                                                         catalog: Database) -> None:
    send(mail_in, letter("A big pothole", "There is a pothole on my street."))
    t = only_ticket(catalog)
    assert t["code"] == "general-request"  # a pothole needs answers a mail never gave
    with catalog.session() as s:
        notes = [e.text for e in s.scalars(select(TicketEvent).where(
            TicketEvent.ticket_id == t["id"], TicketEvent.public.is_(False)))]
    assert any(n.startswith("Looks like Pothole") for n in notes)


def test_a_reply_is_a_comment_the_agency_is_told_of(mail_in: Listener, catalog: Database,
                                                    settings: Settings, smtp: Inbox) -> None:
    send(mail_in, letter("Street light out", "Dark since Monday."))
    deliver_pending(catalog, settings)
    [notice] = smtp.to(ANA)
    answer = letter(f"Re: {notice['Subject']}", "It is still dark, and now the next one too."
                    f"\n\nOn Mon, Mar 2, 2026, {CITY} wrote:\n> Thank you for contacting",
                    In_Reply_To=notice["Message-ID"], References=notice["Message-ID"])
    answer.replace_header("Subject", "Re: thanks")  # threads by In-Reply-To alone
    send(mail_in, answer)
    t = only_ticket(catalog)
    with catalog.session() as s:
        said = s.scalars(select(TicketEvent.text).where(
            TicketEvent.ticket_id == t["id"], TicketEvent.kind == "commented",
            TicketEvent.actor == "resident")).all()
    assert said == ["By e-mail: It is still dark, and now the next one too."]
    assert deliver_pending(catalog, settings) == 2
    [told] = smtp.to(t["agency_email"])
    assert t["number"] in told["Subject"]
    assert "It is still dark, and now the next one too." in told.get_body().get_content()
    assert "On Mon" not in told.get_body().get_content()  # the quoted history is cut
    confirm = smtp.to(ANA)[-1]
    assert "added to request" in confirm["Subject"] and t["number"] in confirm["Subject"]
    assert "Expected completion: " in confirm.get_body().get_content()
    assert outcomes(catalog) == [("opened", ""), ("commented", "")]


def test_a_reply_by_subject_from_someone_else_opens_its_own_request(
        mail_in: Listener, catalog: Database) -> None:
    send(mail_in, letter("Street light out", "Dark since Monday."))
    number = only_ticket(catalog)["number"]
    send(mail_in, letter(f"Re: request {number} received", "Me too, next street",
                         sender="bo@example.org"))
    with catalog.session() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 2
        assert not s.scalars(select(TicketEvent).where(TicketEvent.actor == "resident",
                                                       TicketEvent.kind == "commented")).all()


@pytest.mark.parametrize("headers, reason", [
    ({"Auto_Submitted": "auto-replied"}, "auto_reply"),
    ({"X_Autoreply": "yes"}, "auto_reply"),
    ({"Precedence": "bulk"}, "bulk"),
    ({"List_Id": "<street-news.example.org>"}, "bulk"),
])
def test_automatic_mail_is_refused_and_never_answered(
        mail_in: Listener, catalog: Database, settings: Settings, smtp: Inbox,
        headers: dict[str, str], reason: str) -> None:
    send(mail_in, letter("Out of office: Street light out", "I am away until Monday.",
                         **headers))
    assert counts(catalog) == (0, 0, 1) and outcomes(catalog) == [("refused", reason)]
    assert deliver_pending(catalog, settings) == 0 and smtp.messages == []


def test_a_bounce_is_refused(mail_in: Listener, catalog: Database) -> None:
    send(mail_in, letter("Undelivered Mail Returned to Sender", "Street light"),
         envelope_from="")
    assert outcomes(catalog) == [("refused", "auto_reply")]


def test_a_mail_loop_is_refused(mail_in: Listener, catalog: Database, settings: Settings,
                                smtp: Inbox) -> None:
    """Our own notice comes back to the 311 address (a forward rule pointing home): refused,
    and nothing goes out again; likewise any mail claiming to be from us."""
    send(mail_in, letter("Street light out", "Dark since Monday."))
    deliver_pending(catalog, settings)
    [notice] = smtp.messages
    del notice["To"]
    notice["To"] = CITY
    send(mail_in, notice)
    send(mail_in, letter("Street light out", "forged", sender=settings.mail_from))
    assert outcomes(catalog)[1:] == [("refused", "loop"), ("refused", "loop")]
    assert counts(catalog)[:2] == (1, 1)  # one ticket, its one notice
    assert deliver_pending(catalog, settings) == 0 and len(smtp.messages) == 1


def test_a_message_id_seen_before_is_refused(mail_in: Listener, catalog: Database,
                                             settings: Settings, smtp: Inbox) -> None:
    m = letter("Street light out", "Dark since Monday.")
    send(mail_in, m)
    send(mail_in, m)  # an MTA's retry after a lost 250
    assert counts(catalog) == (1, 1, 1)
    assert deliver_pending(catalog, settings) == 1 and len(smtp.to(ANA)) == 1


def test_more_than_the_hourly_limit_from_one_sender_is_refused(
        mail_in: Listener, catalog: Database, settings: Settings) -> None:
    settings.mail_in_per_sender_hour = 2
    for i in range(3):
        send(mail_in, letter("Street light out", f"Lamp {i} is dark."))
    assert [o for o, _ in outcomes(catalog)] == ["opened", "opened", "refused"]
    assert outcomes(catalog)[-1] == ("refused", "flood") and counts(catalog)[0] == 2
    send(mail_in, letter("Street light out", "Another.", sender="bo@example.org"))
    assert counts(catalog)[0] == 3  # the limit is per sender


def test_oversize_junk_and_strangers_are_refused_at_the_door(mail_in: Listener,
                                                             catalog: Database) -> None:
    big = letter("Street light out", "photos", photo=PNG * 200)  # over mail_in_max_bytes
    assert refused_with(mail_in, big) == 552
    junk = EmailMessage()
    junk["From"], junk["To"], junk["Subject"] = ANA, CITY, "invoice"
    junk.add_attachment(b"MZ\x90\0" * 50, maintype="application", subtype="octet-stream",
                        filename="invoice.exe")
    assert refused_with(mail_in, junk) == 550
    nobody = letter("Street light out", "Dark.")
    with pytest.raises(smtplib.SMTPRecipientsRefused), \
            smtplib.SMTP("127.0.0.1", mail_in.port, timeout=30) as c:
        c.send_message(nobody, to_addrs=["someone-else@civic.example"])
    assert counts(catalog) == (0, 0, 0)
    send(mail_in, letter("Street light out", "Dark."))  # the listener still serves
    assert counts(catalog)[0] == 1


def test_the_active_worker_runs_the_listener(catalog: Database, settings: Settings,
                                             smtp: Inbox) -> None:
    """``mail_in = "smtp"``: the worker that holds the lock listens, and stops listening when
    it lets the lock go (a standby never binds the port)."""
    from center.worker import SchedulerDuty
    from foundation.leader import lock_for

    settings.database_url = catalog.url
    settings.mail_in, settings.mail_in_address = "smtp", CITY
    settings.mail_in_port = free_port()
    duty = SchedulerDuty(settings, catalog, lock_for(catalog.url))
    duty.begin()
    try:
        assert duty.mail_listener is not None
        send(duty.mail_listener, letter("Street light out", "Dark since Monday."))
        assert only_ticket(catalog)["channel"] == "email"
    finally:
        duty.end(lost=False)
    assert duty.mail_listener is None
    with pytest.raises(OSError):
        smtplib.SMTP("127.0.0.1", settings.mail_in_port, timeout=5)


def test_a_port_in_use_is_logged_and_the_jobs_still_run(
        catalog: Database, settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    import socket

    from center.worker import SchedulerDuty
    from foundation.leader import lock_for

    settings.database_url = catalog.url
    settings.mail_in, settings.mail_in_address = "smtp", CITY
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings.mail_in_port = taken.getsockname()[1]
        duty = SchedulerDuty(settings, catalog, lock_for(catalog.url))
        duty.begin()
        try:
            assert duty.mail_listener is None
            assert duty.scheduler is not None and duty.scheduler.get_job("crm.notify")
            assert "mail in: cannot listen on" in caplog.text
        finally:
            duty.end(lost=False)
