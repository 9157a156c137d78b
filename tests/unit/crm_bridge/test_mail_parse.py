"""Reading received mail (crm_bridge.mail_in.parse, .classify): what a message says, the
headers that mark it automatic, the ticket a reply is about, the type a message is."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from crm_bridge.mail_in import classify, parse
from crm_bridge.tickets.checkdigit import ticket_number

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
NUMBER = ticket_number(18)


def message(body: str = "The street light outside 12 Elm St is out.", **headers: str) -> bytes:
    m = EmailMessage()
    m["From"] = headers.pop("From", "Ana Ruiz <Ana@Example.org>")
    m["To"] = "311@civic.example"
    m["Subject"] = headers.pop("Subject", "Street light out")
    m["Message-ID"] = headers.pop("Message_ID", "<abc@example.org>")
    for name, value in headers.items():
        m[name.replace("_", "-")] = value
    m.set_content(body)
    return bytes(m)


def test_a_plain_message_is_read() -> None:
    mail = parse.read(message())
    assert mail.sender == "ana@example.org"
    assert mail.subject == "Street light out"
    assert mail.text == "The street light outside 12 Elm St is out."
    assert mail.automatic is None and mail.photos == ()


def test_an_html_only_message_gives_its_words() -> None:
    m = EmailMessage()
    m["From"], m["Subject"] = "ana@example.org", "Noise"
    m.set_content("<p>Loud <b>music</b></p><script>x()</script><p>every night</p>",
                  subtype="html")
    assert parse.read(bytes(m)).text == "Loud music\nevery night"


def test_an_image_attachment_is_a_photo() -> None:
    m = EmailMessage()
    m["From"], m["Subject"] = "ana@example.org", "Pothole"
    m.set_content("See the photo")
    m.add_attachment(PNG, maintype="image", subtype="png", filename="hole.png")
    m.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="a.pdf")
    assert parse.read(bytes(m)).photos == (PNG,)


@pytest.mark.parametrize("headers, why", [
    ({"Auto_Submitted": "auto-replied"}, parse.Refusal.AUTO_REPLY),
    ({"Auto_Submitted": "auto-generated; owner-email=x@y"}, parse.Refusal.AUTO_REPLY),
    ({"X_Autoreply": "yes"}, parse.Refusal.AUTO_REPLY),
    ({"X_Autorespond": "Out of office"}, parse.Refusal.AUTO_REPLY),
    ({"Precedence": "bulk"}, parse.Refusal.BULK),
    ({"Precedence": "Junk"}, parse.Refusal.BULK),
    ({"Precedence": "list"}, parse.Refusal.BULK),
    ({"List_Id": "<neighbours.example.org>"}, parse.Refusal.BULK),
])
def test_automatic_mail_is_refused(headers: dict[str, str], why: parse.Refusal) -> None:
    assert parse.refusal(parse.read(message(**headers)), set()) is why


def test_auto_submitted_no_is_a_person_and_our_own_address_is_a_loop() -> None:
    assert parse.read(message(Auto_Submitted="no")).automatic is None
    mail = parse.read(message(From="311@civic.example"))
    assert parse.refusal(mail, {"311@civic.example"}) is parse.Refusal.LOOP


def test_a_bounce_is_automatic() -> None:
    assert parse.read(message(), envelope_from="").automatic is parse.Refusal.AUTO_REPLY
    assert parse.read(message(), envelope_from="ana@example.org").automatic is None


@pytest.mark.parametrize("raw", [
    b"Subject: no sender\r\n\r\nhello\r\n",
    b"From: not an address\r\nSubject: x\r\n\r\nhello\r\n",
])
def test_no_sender_is_junk(raw: bytes) -> None:
    with pytest.raises(parse.Junk, match="sender"):
        parse.read(raw)


def test_no_text_and_no_photo_is_junk() -> None:
    m = EmailMessage()
    m["From"], m["Subject"] = "ana@example.org", "x"
    m.make_mixed()
    part = EmailMessage()
    part.set_content(b"MZ\x90\0", maintype="application", subtype="octet-stream")
    m.attach(part)
    with pytest.raises(parse.Junk, match="no text"):
        parse.read(bytes(m))


def test_the_ticket_comes_from_our_message_id_then_the_subject() -> None:
    ref = f"<177.1.2.t{NUMBER}@civic.example>"
    assert parse.ticket_number(parse.read(message(In_Reply_To=ref, Subject="Re: hi"))) == NUMBER
    assert parse.ticket_number(parse.read(message(References=f"<a@b> {ref}"))) == NUMBER
    mail = parse.read(message(Subject=f"Re: Springfield 311: request {NUMBER} received"))
    assert parse.ticket_number(mail) == NUMBER
    wrong = NUMBER[:-1] + str((int(NUMBER[-1]) + 1) % 10)  # a failed check digit
    assert parse.ticket_number(parse.read(message(Subject=f"Re: request {wrong}"))) is None


def test_a_reply_keeps_its_own_words() -> None:
    body = ("Still not fixed.\nSecond line\n\nOn Mon, Mar 2, 2026 at 10:00 AM 311 wrote:\n"
            "> Your service request number is 100000018.\n> old text\n")
    assert parse.read(message(body)).text == "Still not fixed.\nSecond line"
    assert parse.fresh_text("> quoted\nmine") == "mine"


def test_the_message_id_or_a_digest_keys_the_message() -> None:
    assert parse.read(message()).key == parse.read(message(Subject="other")).key
    m = EmailMessage()
    m["From"], m["Subject"] = "ana@example.org", "x"
    m.set_content("no id")
    assert parse.read(bytes(m)).message_id.startswith("sha256:")


def test_control_characters_are_made_spaces_and_text_is_clipped() -> None:
    mail = parse.read(message("a\x00b\x1bc " + "x" * 5000))
    assert mail.text.startswith("a b c ") and len(mail.text) == parse.MAX_TEXT


CARDS = [classify.TypeCard("streetlight-out", "Street Light Out", ("street light", "lamp out"),
                           False),
         classify.TypeCard("pothole", "Pothole", ("pothole", "hole in road"), True),
         classify.TypeCard("general-request", "General Request", (), False)]


def test_the_type_is_the_best_keyword_match() -> None:
    got = classify.choose("Lamp out", "The street light on Elm is dark", CARDS,
                          "general-request")
    assert got == classify.Choice("streetlight-out", None)


def test_a_type_that_needs_answers_goes_to_the_fallback_with_a_hint() -> None:
    got = classify.choose("Big pothole", "on Main", CARDS, "general-request")
    assert got == classify.Choice("general-request", "Pothole")


def test_no_match_is_the_fallback_and_words_match_whole() -> None:
    assert classify.choose("Hello", "spotholed lamps", CARDS,
                           "general-request") == classify.Choice("general-request", None)
    assert classify.choose("Two street lights out", "", CARDS,
                           "general-request") == classify.Choice("streetlight-out", None)
