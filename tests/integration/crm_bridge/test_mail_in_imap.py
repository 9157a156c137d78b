"""E-mail in by IMAP polling against a real IMAP server (Dovecot over IMAPS, its certificate
trusted by ``imap_ca_file``): the messages a resident's provider would deliver to the 311
mailbox are appended to it, the worker's poll reads them with ``imaplib``, applies each once
and takes it off the inbox (moved to the done folder, or marked seen)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from crm_bridge.mail_in.imap_poll import poll
from crm_bridge.mail_in.models import MailIn
from crm_bridge.models import Ticket
from foundation.db import Database
from foundation.settings import Settings
from tests.integration.crm_bridge.test_mail_in import ANA, CITY, PNG, letter
from tests.support import imap_server
from tests.support.imap_server import ImapServer

pytestmark = pytest.mark.skipif(not imap_server.available(),
                                reason="needs dovecot-imapd and openssl (scripts/system-deps.sh)")


@pytest.fixture
def imap(tmp_path: Path) -> Iterator[ImapServer]:
    server = ImapServer(tmp_path / "imap")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def polling(catalog: Database, settings: Settings, imap: ImapServer) -> Settings:
    settings.database_url = catalog.url
    settings.mail_in, settings.mail_in_address = "imap", CITY
    settings.imap_host, settings.imap_port = "127.0.0.1", imap.port
    settings.imap_user, settings.imap_password = imap_server.USER, imap_server.PASSWORD
    settings.imap_ca_file = imap.ca_file
    return settings


def test_polling_opens_requests_and_takes_mail_off_the_inbox(
        polling: Settings, catalog: Database, imap: ImapServer) -> None:
    imap.create("Processed")
    polling.imap_done_folder = "Processed"
    first = letter("Street light out", "Dark since Monday.", photo=PNG)
    imap.append(bytes(first))
    imap.append(bytes(first))  # delivered twice
    imap.append(bytes(letter("Out of office", "Away", Auto_Submitted="auto-replied")))
    assert poll(catalog, polling) == 3
    with catalog.session() as s:
        [t] = s.scalars(select(Ticket)).all()
        assert (t.channel, t.email, t.service_type.code) == ("email", ANA, "streetlight-out")
        assert t.media_url is not None
        assert [(r.outcome, r.reason) for r in s.scalars(select(MailIn).order_by(MailIn.id))] \
            == [("opened", ""), ("refused", "auto_reply")]  # the repeat is not logged again
    assert imap.uids("INBOX") == [] and len(imap.uids("Processed")) == 3
    assert poll(catalog, polling) == 0  # nothing left: nothing read twice


def test_without_a_done_folder_mail_is_marked_seen(polling: Settings, catalog: Database,
                                                   imap: ImapServer) -> None:
    imap.append(bytes(letter("Street light out", "Dark since Monday.")))
    assert poll(catalog, polling) == 1
    assert imap.uids("INBOX", "UNSEEN") == [] and len(imap.uids("INBOX", "SEEN")) == 1
    imap.append(bytes(letter("Street light out", "Another lamp.")))
    assert poll(catalog, polling) == 1  # only the new one
    with catalog.session() as s:
        assert len(s.scalars(select(Ticket)).all()) == 2


def test_a_wrong_password_is_an_error_and_changes_nothing(polling: Settings,
                                                          catalog: Database,
                                                          imap: ImapServer) -> None:
    imap.append(bytes(letter("Street light out", "Dark since Monday.")))
    polling.imap_password = "wrong"
    with pytest.raises(Exception, match="(?i)auth"):
        poll(catalog, polling)
    assert imap.uids("INBOX", "UNSEEN") != []
    with catalog.session() as s:
        assert s.scalars(select(Ticket)).all() == []


def test_oversize_and_junk_are_taken_off_and_change_nothing(
        polling: Settings, catalog: Database, imap: ImapServer) -> None:
    polling.mail_in_max_bytes = 20_000
    imap.append(bytes(letter("Street light out", "photos", photo=PNG * 30)))
    imap.append(b"From: " + ANA.encode() + b"\r\nSubject: x\r\nContent-Type: "
                b"application/octet-stream\r\n\r\nMZ\x90\x00\r\n")
    assert poll(catalog, polling) == 2
    assert imap.uids("INBOX", "UNSEEN") == []
    with catalog.session() as s:
        assert s.scalars(select(Ticket)).all() == [] and s.scalars(select(MailIn)).all() == []
