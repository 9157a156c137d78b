"""The IMAP receiver (``mail_in = "imap"``): the worker job polls ``imap_folder`` over SSL
(``imaplib.IMAP4_SSL``) every ``mail_in_poll_s`` and gives each unseen message to intake.

A processed message, whatever became of it, is moved to ``imap_done_folder`` (when set, with
MOVE, else COPY + delete) or marked seen; intake is idempotent by Message-ID, so a message
applied just before a cut connection is applied once when it is read again. A message intake
cannot take for now (the database down) stays unseen and is read at the next poll.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
from collections.abc import Callable

from crm_bridge.config import from_settings
from crm_bridge.mail_in.intake import Rejected, receive
from foundation.db import Database
from foundation.settings import Settings

log = logging.getLogger(__name__)
SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
Connect = Callable[[Settings], imaplib.IMAP4]


def connect(settings: Settings) -> imaplib.IMAP4:
    if not (settings.imap_host and settings.imap_user and settings.imap_password):
        raise RuntimeError("IMAP mail in is not configured (imap_host/imap_user/imap_password)")
    box = imaplib.IMAP4_SSL(settings.imap_host, settings.imap_port,
                            ssl_context=ssl.create_default_context(cafile=settings.imap_ca_file),
                            timeout=30)
    box.login(settings.imap_user, settings.imap_password)
    return box


def poll(db: Database, settings: Settings, connect: Connect = connect) -> int:
    """Read every unseen message once; returns how many were taken off the folder."""
    cfg = from_settings(settings)
    box = connect(settings)
    done = 0
    try:
        status, why = box.select(settings.imap_folder)
        if status != "OK":
            raise RuntimeError(f"IMAP folder {settings.imap_folder!r}: {why!r}")
        _, data = box.uid("SEARCH", "UNSEEN")
        for uid in (data[0] or b"").decode().split():
            try:
                raw = _fetch(box, uid, settings.mail_in_max_bytes)
                if raw is None:
                    continue
                receive(db, settings, cfg, raw)
            except Rejected as exc:
                log.warning("mail in (IMAP) refused uid %s: %s", uid, exc)
                if exc.smtp < 500:
                    continue  # not set up: read again next time
            except Exception:
                log.exception("mail in (IMAP) failed on uid %s: kept for the next poll",
                              uid)
                continue
            _take_off(box, uid, settings.imap_done_folder)
            done += 1
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            box.logout()
    return done


def _fetch(box: imaplib.IMAP4, uid: str, max_bytes: int) -> bytes | None:
    """The message's bytes; one larger than ``max_bytes`` is refused by its announced size
    (RFC822.SIZE) before a byte of it is downloaded."""
    _, sized = box.uid("FETCH", uid, "(RFC822.SIZE)")
    found = SIZE.search(b" ".join(p if isinstance(p, bytes) else p[0] for p in sized if p))
    if found and int(found.group(1)) > max_bytes:
        raise Rejected(552, f"message larger than {max_bytes} bytes")
    _, parts = box.uid("FETCH", uid, "(BODY.PEEK[])")
    return next((p[1] for p in parts if isinstance(p, tuple)), None)


def _take_off(box: imaplib.IMAP4, uid: str, folder: str | None) -> None:
    if not folder:
        box.uid("STORE", uid, "+FLAGS", "(\\Seen)")
        return
    status, _ = box.uid("MOVE", uid, folder)
    if status != "OK":
        box.uid("COPY", uid, folder)
        box.uid("STORE", uid, "+FLAGS", "(\\Deleted \\Seen)")
        box.expunge()
