"""Two-way SMS end to end through Twilio Messaging's signed webhook (``/twilio/sms``), on
SQLite and PostgreSQL: a request opened by text (type, question, address, photo) that the
agency queue and Open311 show with channel ``sms``; a status by number with no one's
personal data; STOP honoured by the notices (none queued, none sent to the fake Twilio),
START, HELP; a retried MessageSid; Spanish; bad input never a 5xx."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from crm_bridge.config import from_settings
from crm_bridge.models import Notification, Ticket
from crm_bridge.notify.delivery import OPTED_OUT, deliver_pending
from crm_bridge.seed import seed_catalog
from crm_bridge.sms.models import SmsInbound, SmsPhone
from crm_bridge.tickets import service
from crm_bridge.tickets.checkdigit import ticket_number
from crm_bridge.tickets.draft import TicketDraft
from foundation.db import Database, utcnow
from foundation.settings import Settings
from places.seed import seed_places
from tests.conftest import login
from tests.support.fake_remote import serve_fake_twilio
from tests.support.fake_twilio import Texter, reply_of, signed_post

TOKEN = "test-twilio-token-1234"
BASE = "https://311.civic.example"
PHONE = "+12125550142"
PHOTO = ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "image/jpeg")
NUMBER = re.compile(r"request number is (\d{9})")


@pytest.fixture
def twilio_rest(settings: Settings) -> Iterator[list[dict[str, Any]]]:
    """Twilio's Messages resource (a real local HTTP server): what civic311 sends out."""
    with serve_fake_twilio() as (base, received):
        settings.twilio_api_base = base
        yield received


@pytest.fixture
def sms_app(settings: Settings, database: Database,
            twilio_rest: list[dict[str, Any]]) -> Flask:
    from center.web import create_app

    settings.database_url = database.url
    settings.twilio_auth_token, settings.public_base_url = TOKEN, BASE
    settings.twilio_account_sid, settings.twilio_from_number = "AC1", "+12125550311"
    with database.session() as s:
        seed_catalog(s, None)
        seed_places(s)
    app = create_app(settings, database)
    app.config.update(TESTING=True)
    return app


def texter(app: Flask, phone: str = PHONE) -> Texter:
    return Texter(app.test_client(), TOKEN, BASE, phone)


def ticket(db: Database, number: str) -> Ticket:
    with db.session() as s:
        t = s.scalar(select(Ticket).where(Ticket.number == number))
        assert t is not None
        s.expunge(t)
        return t


def count(db: Database, model: type[Any]) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_a_request_opened_by_text_reaches_the_queue_and_open311(
        sms_app: Flask, database: Database, users: dict[str, str]) -> None:
    phone = texter(sms_app)
    reply = phone.text("There is a huge pothole on my street")
    assert reply.startswith("Pothole. How big is the pothole? Reply with the number of one "
                            "option:\n1 Smaller than a dinner plate\n")
    assert "\n3 Larger than a tyre" in reply
    assert phone.text("3") == "Where is it? Reply with the street address, e.g. 120 Main St."
    assert phone.text("104 washingtn st") == ("Found: 104 Washington St. Send a photo of the "
                                              "problem now, or reply SKIP.")
    reply = phone.text("", media=PHOTO)
    number = NUMBER.search(reply).group(1)  # type: ignore[union-attr]
    assert re.fullmatch(rf"Thank you\. Your request number is {number} \(Pothole\)\. Expected "
                        r"by \w+day \w+ \d+, 20\d\d\. Text the number any time for its status\.",
                        reply)
    t = ticket(database, number)
    assert (t.channel, t.language, t.phone, t.notify_sms, t.notify_email, t.created_by) == (
        "sms", "en", PHONE, True, False, "resident")
    assert (t.attributes, t.address, t.media_url, t.description) == (
        {"size": "large"}, "104 Washington St", PHOTO[0], "There is a huge pothole on my street")
    assert t.lat is not None and t.long is not None
    with database.session() as s:  # the last reply said it: no "created" text besides
        assert s.scalars(select(Notification).where(Notification.ticket_id == t.id)).all() == []
        assert s.scalar(select(SmsPhone.exchange).where(SmsPhone.phone == PHONE)) is None

    staff = sms_app.test_client()
    login(staff, users["agent"])
    assert number in staff.get("/crm/queue?agency=DOT").get_data(as_text=True)
    assert "via sms" in staff.get(f"/crm/tickets/{number}").get_data(as_text=True)
    got = sms_app.test_client().get(f"/open311/v2/requests/{number}.json?extensions=true")
    [row] = got.get_json()
    assert row["extended_attributes"]["channel"] == "sms" and row["service_code"] == "pothole"
    assert PHONE not in got.get_data(as_text=True)


def test_a_type_by_number_or_by_words_questions_and_an_unknown_address(
        sms_app: Flask, database: Database) -> None:
    with database.session() as s:  # the short list puts the most requested types first
        for _ in range(2):
            service.open_ticket(s, TicketDraft("dead-animal", attributes={"animal": "cat"},
                                               address="2 Elm"))
    phone = texter(sms_app)
    menu = phone.text("REPORT")
    assert menu.startswith("Civic City 311: what is the problem? Reply with its number, or a "
                           "word such as pothole:\n1 Dead Animal\n2 ")
    assert "ES para español. HELP for help." in menu
    listed = re.findall(r"^(\d) (.+)$", menu, re.M)
    assert len(listed) == 8
    reply = phone.text("purple elephants dancing")
    assert reply.startswith('No request type matches "purple elephants dancing". Reply with '
                            "a number from the list or another word:\n1 ")
    number, name = listed[1]
    assert phone.text(number).startswith(f"{name}.")  # the list is offered again, same numbers
    phone.text("REPORT")
    reply = phone.text("missed trash")
    assert reply.startswith("Missed Trash Collection. What was missed? Reply with one or more "
                            "numbers, e.g. 1 3:\n1 Trash\n2 Recycling\n3 Compost")
    assert phone.text("5").startswith("Sorry, that is not an answer to this question. What "
                                      "was missed?")
    assert phone.text("1, 2").startswith("Was it out on time?")
    assert phone.text("yes") == "Where is it? Reply with the street address, e.g. 120 Main St."
    assert phone.text("Behind the old mill, Atlantis") == (
        'We could not find "Behind the old mill, Atlantis" on the city\'s map, so we will send '
        "it as you wrote it. Send a photo of the problem now, or reply SKIP.")
    assert phone.text("here you go") == "Send a photo (a picture message), or reply SKIP."
    number = NUMBER.search(phone.text("skip")).group(1)  # type: ignore[union-attr]
    t = ticket(database, number)
    assert (t.attributes, t.address, t.lat, t.media_url, t.description) == (
        {"materials": ["trash", "recycling"], "out_on_time": "yes"},
        "Behind the old mill, Atlantis", None, None, "")


def test_status_by_number_tells_nothing_personal(sms_app: Flask, database: Database) -> None:
    cfg = from_settings(sms_app.extensions["civic311.settings"])
    with database.session() as s:
        t = service.open_ticket(s, TicketDraft(
            "pothole", description="deep hole, call me 212-555-0199", address="350 W 34th St "
            "Apt 4B", attributes={"size": "large"}, first_name="Ann", phone="+12125550199",
            email="ann@example.org"), config=cfg)
        open_number = t.number
        closed = service.open_ticket(s, TicketDraft(
            "graffiti", attributes={"surface": "sign", "offensive": "no"}, address="9 Pine St"),
            config=cfg)
        closed_number = closed.number
        service.close(s, closed, "dot1", "resolved", "Cleaned; ask Bob on 212-555-0100",
                      config=cfg)
    phone = texter(sms_app)
    reply = phone.text(open_number)
    assert re.fullmatch(rf"Civic City 311: request {open_number} \(Pothole\) is received, "
                        r"handled by Department of Transportation\. Expected by \w+day \w+ "
                        r"\d+, 20\d\d\.", reply), reply
    for private in ("Ann", "34th", "4B", "0199", "ann@", "deep hole"):
        assert private not in reply
    reply = phone.text(f"#{closed_number[:3]} {closed_number[3:]}")
    assert reply == (f"Civic City 311: request {closed_number} (Graffiti) is closed. "
                     "Resolution: Cleaned; ask Bob on [phone removed]")
    bad = open_number[:-1] + str((int(open_number[-1]) + 1) % 10)
    assert phone.text(bad) == f"{bad} is not a request number: check the digits."
    unknown = ticket_number(99999)
    assert phone.text(unknown) == (f"There is no request {unknown}. Check the number and "
                                   "text it again.")
    with database.session() as s:  # status texts start no exchange
        assert s.scalar(select(SmsPhone.exchange).where(SmsPhone.phone == PHONE)) is None


def _open_by_text(phone: Texter) -> str:
    phone.text("pothole")
    phone.text("1")
    phone.text("104 Washington St")
    return NUMBER.search(phone.text("SKIP")).group(1)  # type: ignore[union-attr]


def test_stop_is_honoured_start_and_help(sms_app: Flask, database: Database,
                                         twilio_rest: list[dict[str, Any]]) -> None:
    settings = sms_app.extensions["civic311.settings"]
    cfg = from_settings(settings)
    phone = texter(sms_app)
    number = _open_by_text(phone)
    with database.session() as s:  # a status text queued, still unsent, when STOP comes
        service.act(s, service.get_ticket(s, number), "acknowledge", "dot1", config=cfg)
    assert phone.text("pothole").startswith("Pothole.")  # an exchange under way ...
    assert phone.send("Stop").get_data(as_text=True).endswith("<Response />")  # ... no reply
    with database.session() as s:
        row = s.scalar(select(SmsPhone).where(SmsPhone.phone == PHONE))
        assert row is not None and row.opted_out and row.exchange is None
        service.act(s, service.get_ticket(s, number), "start", "dot1", comment="crew out",
                    config=cfg)
        service.open_ticket(s, TicketDraft(  # a call taker types the same line another way
            "graffiti", attributes={"surface": "sign", "offensive": "no"}, address="9 Pine St",
            phone="(212) 555-0142", notify_sms=True, notify_email=False), config=cfg)
    assert deliver_pending(database, settings) == 0
    assert twilio_rest == []  # Twilio was never asked to text the number
    with database.session() as s:
        rows = s.scalars(select(Notification).where(Notification.channel == "sms")).all()
        assert [(n.kind, n.status, n.last_error) for n in rows] == [
            ("status", "failed", OPTED_OUT)]  # queued before STOP: never sent; after: none
    assert phone.text("pothole") == ""  # nothing is texted to a number that said STOP
    assert phone.text(number) == "" and phone.text("HELP") == ""  # Twilio answers its HELP
    assert phone.text("START") == ("Civic City 311: you will get our texts again. Text a "
                                   "problem to report it, or a request number for its status.")
    help_text = phone.text("HELP")
    assert help_text.startswith("Civic City 311: text a problem (e.g. pothole) to report it")
    assert "Reply STOP to stop texts, START to get them again." in help_text
    with database.session() as s:
        t = service.get_ticket(s, number)
        service.close(s, t, "dot1", "resolved", "Filled the pothole", config=cfg)
    assert deliver_pending(database, settings) == 1
    [sent] = twilio_rest
    assert sent["To"] == PHONE and sent["Body"] == (f"Civic City 311: request {number} "
                                                    "closed. Resolution: Filled the pothole")


def test_a_retried_message_changes_nothing(sms_app: Flask, database: Database) -> None:
    phone = texter(sms_app)
    phone.text("pothole", sid="SM" + "a" * 32)
    assert phone.text("1", sid="SM" + "b" * 32).startswith("Where is it?")
    phone.text("104 Washington St", sid="SM" + "c" * 32)
    first = phone.text("SKIP", sid="SM" + "d" * 32)
    assert NUMBER.search(first)
    assert phone.text("SKIP", sid="SM" + "d" * 32) == first  # Twilio's retry: the same reply
    assert phone.text("1", sid="SM" + "b" * 32).startswith("Where is it?")  # a late retry
    assert count(database, Ticket) == 1
    with database.session() as s:
        assert s.scalar(select(SmsPhone.exchange).where(SmsPhone.phone == PHONE)) is None
    assert count(database, SmsInbound) == 4


def test_the_same_message_delivered_at_once_is_answered_once(sms_app: Flask,
                                                             database: Database) -> None:
    phone = texter(sms_app)
    for body in ("pothole", "1", "104 Washington St"):
        phone.text(body)
    n = 5
    start = threading.Barrier(n)
    replies: list[str] = []

    def deliver() -> None:
        twin = texter(sms_app)  # Twilio's retry while the first try is still being answered
        start.wait()
        replies.append(twin.text("SKIP", sid="SM" + "7" * 32))

    threads = [threading.Thread(target=deliver) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(replies) == n and len(set(replies)) == 1 and NUMBER.search(replies[0])
    assert count(database, Ticket) == 1


def test_spanish_exchange_and_notices(sms_app: Flask, database: Database,
                                      twilio_rest: list[dict[str, Any]]) -> None:
    settings = sms_app.extensions["civic311.settings"]
    phone = texter(sms_app)
    menu = phone.text("pothole")
    assert menu.startswith("Pothole. How big is the pothole? Reply with")
    assert phone.text("ESPAÑOL").startswith("Le escribiremos en español. How big is the "
                                            "pothole? Responda con el número de una opción:")
    assert phone.text("2") == "¿Dónde está? Responda con la dirección, por ejemplo 120 Main St."
    assert phone.text("104 Washington St") == ("Encontrada: 104 Washington St. Envíe ahora "
                                               "una foto del problema, o responda SKIP.")
    reply = phone.text("omitir")
    # the type in Spanish (the catalog's i18n); the questions are still the English ones
    assert re.fullmatch(r"Gracias\. Su número de solicitud es (\d{9}) \(Bache\)\. Fecha "
                        r"prevista: el \w+ \d+ de \w+ de 20\d\d\. Envíe el número cuando "
                        r"quiera para saber su estado\.", reply), reply
    number = NUMBER.search(reply.replace("solicitud es", "request number is")).group(1)  # type: ignore[union-attr]
    assert ticket(database, number).language == "es"
    assert phone.text(number).startswith(f"311 de Civic City: la solicitud {number} (Bache) "
                                         "está recibida; la atiende")
    assert phone.text("ayuda").startswith("311 de Civic City: envíe un problema")
    with database.session() as s:
        service.act(s, service.get_ticket(s, number), "acknowledge", "dot1",
                    config=from_settings(settings))
    assert deliver_pending(database, settings) == 1
    assert twilio_rest[0]["Body"] == (f"311 de Civic City: la solicitud {number} ahora está "
                                      "recibida y revisada.")
    assert phone.text("EN") == "We will text you in English."


def test_an_exchange_left_half_an_hour_starts_again(sms_app: Flask, database: Database) -> None:
    phone = texter(sms_app)
    phone.text("pothole")
    with database.session() as s:
        s.execute(update(SmsPhone).values(last_text_at=utcnow() - timedelta(minutes=31)))
    reply = phone.text("1")
    assert reply.startswith("The report you started was not finished within 30 minutes, so it "
                            "was not sent. Civic City 311: what is the problem?")
    phone.text("pothole")
    with database.session() as s:
        s.execute(update(SmsPhone).values(last_text_at=utcnow() - timedelta(minutes=31)))
    phone.text("HELP")  # not an answer, yet the idle exchange is over all the same
    assert phone.text("1").startswith("Civic City 311: what is the problem?")
    other = texter(sms_app, "+12125550143")
    other.text("pothole")
    with database.session() as s:  # an idle exchange forgets what was typed (next text cleans)
        s.execute(update(SmsPhone).where(SmsPhone.phone == PHONE)
                  .values(last_text_at=utcnow() - timedelta(minutes=31)))
    other.text("1")
    with database.session() as s:
        assert s.scalar(select(SmsPhone.exchange).where(SmsPhone.phone == PHONE)) is None


def test_bad_requests_change_nothing_and_never_fail(sms_app: Flask, database: Database) -> None:
    client = sms_app.test_client()
    form = {"MessageSid": "SM" + "e" * 32, "From": PHONE, "To": "+12125550311", "Body": "STOP"}
    assert client.post("/twilio/sms", data=form).status_code == 403  # unsigned
    assert client.post("/twilio/sms", data=form,
                       headers={"X-Twilio-Signature": "forged"}).status_code == 403
    signed = signed_post(client, TOKEN, BASE, "/twilio/sms", form)
    assert signed.status_code == 200  # the same form, signed (then STOP: no reply)
    assert count(database, SmsPhone) == 1
    tampered = {**form, "MessageSid": "SM" + "f" * 32, "Body": "START"}
    sig = signed_post(client, "wrong-token", BASE, "/twilio/sms", tampered)
    assert sig.status_code == 403
    with database.session() as s:
        assert s.scalar(select(SmsPhone.opted_out)) is True
    phone = texter(sms_app, "+12125550144")
    assert phone.send("a\x00b").status_code == 400  # NUL: refused before anything is read
    assert phone.send("x", sid="").status_code == 400
    assert phone.send("x", sid="<script>").status_code == 400
    huge = "ñ🙂\u202e" * 200_000
    reply = phone.text(huge)
    assert reply.startswith("No request type matches") or reply.startswith("Civic City 311")
    assert len(reply) <= 1600
    assert phone.text("x", NumMedia="many") != ""
    assert phone.text("", media=("javascript:alert(1)", "image/png")) != ""
    for sender in ("anonymous", "12345", "CIVIC", "+0", ""):
        resp = signed_post(client, TOKEN, BASE, "/twilio/sms",
                           {**form, "MessageSid": "SM" + "9" * 32, "From": sender})
        assert resp.status_code == 200 and reply_of(resp.get_data(as_text=True)) == ""
    assert count(database, SmsPhone) == 2
    with database.session() as s:
        ex = s.scalar(select(SmsPhone.exchange).where(SmsPhone.phone == "+12125550144"))
        assert ex is not None and ex["media_url"] == ""


def test_texters_numbers_are_erased_in_time_but_an_opt_out_is_kept(
        sms_app: Flask, database: Database) -> None:
    from crm_bridge.erasure_jobs import erase
    from foundation.erasure import pseudonym

    settings = sms_app.extensions["civic311.settings"]
    texter(sms_app).text("pothole")
    stopped = texter(sms_app, "+12125550145")
    stopped.text("STOP")
    days = settings.retention_caller_number_days
    assert erase(settings, database, utcnow() + timedelta(days=days - 1))[
        "crm_sms_phones"].erased == 0
    run = erase(settings, database, utcnow() + timedelta(days=days + 1))["crm_sms_phones"]
    assert (run.erased, run.failed) == (1, [])
    with database.session() as s:
        rows = {r.phone: r for r in s.scalars(select(SmsPhone))}
        assert set(rows) == {pseudonym(settings.secret_key, PHONE), "+12125550145"}
        assert rows[pseudonym(settings.secret_key, PHONE)].exchange is None
        assert rows["+12125550145"].opted_out
    assert texter(sms_app).text("HELP").startswith("Civic City 311: text a problem")
    assert stopped.text("pothole") == "" and stopped.text("START") != ""  # still opted out
