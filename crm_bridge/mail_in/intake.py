"""Apply one received message: a new request, a comment on the ticket a reply is about, or a
refusal recorded in ``crm_mail_in`` and never answered.

Order matters: the repeat and refusal rules run before anything is written or sent, and the
message's log row is written in the same transaction as the ticket or comment it caused, so a
Message-ID delivered twice (an MTA's retry, an IMAP message seen twice) applies once.
A reply threads only from the address the ticket's notices go to: anyone else mentioning a
number opens a request of their own (a number is not a key to someone else's request).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_bridge.config import CrmConfig
from crm_bridge.mail_in import classify, parse
from crm_bridge.mail_in.models import MailIn
from crm_bridge.models import ServiceType, Ticket
from crm_bridge.notify import notices
from crm_bridge.photos import STORE, PhotoError, keep, url
from crm_bridge.tickets import service
from crm_bridge.tickets.draft import TicketDraft
from crm_bridge.tickets.errors import CrmError, NotFound
from foundation.db import Database, utcnow
from foundation.settings import Settings, private_dir
from places.public import geocode

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    OPENED = "opened"
    COMMENTED = "commented"
    REFUSED = "refused"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    number: str | None = None
    reason: parse.Refusal | None = None


class Rejected(ValueError):
    """The message is refused at the door and changes nothing; ``smtp`` is the reply code."""

    def __init__(self, smtp: int, message: str) -> None:
        super().__init__(message)
        self.smtp = smtp


def receive(db: Database, settings: Settings, cfg: CrmConfig, raw: bytes,
            envelope_from: str | None = None, now: datetime | None = None) -> Result:
    """Apply ``raw``; Rejected (552 oversize, 550 not a usable message) changes nothing."""
    if len(raw) > settings.mail_in_max_bytes:
        raise Rejected(552, f"message larger than {settings.mail_in_max_bytes} bytes")
    try:
        mail = parse.read(raw, envelope_from)
    except parse.Junk as exc:
        raise Rejected(550, str(exc)) from exc
    now = now or utcnow()
    own = {a.lower() for a in (settings.mail_from, settings.mail_in_address) if a}
    with db.session() as s:
        if s.scalar(select(MailIn.id).where(MailIn.message_key == mail.key)) is not None:
            return Result(Outcome.REFUSED, reason=parse.Refusal.DUPLICATE)
        sender = sender_key(cfg, mail.sender)
        why = parse.refusal(mail, own) or _flood(s, sender, settings, now)
        if why is not None:
            _record(s, mail, sender, now, Outcome.REFUSED, why.value)
            log.info("mail in refused (%s): %s", why.value, mail.key[:12])
            return Result(Outcome.REFUSED, reason=why)
        ticket = _thread(s, mail)
        photo = _keep_photo(settings, mail)
        try:
            if ticket is not None:
                _comment(s, ticket, mail, photo, cfg, now)
                outcome = Outcome.COMMENTED
            else:
                ticket = _open(s, mail, photo, settings, cfg, now)
                outcome = Outcome.OPENED
        except NotFound as exc:  # no fallback type in the catalog: the sender's MTA retries
            raise Rejected(451, f"mail in is not set up: {exc}") from exc
        except CrmError as exc:  # a sender address the tickets refuse
            raise Rejected(550, str(exc)) from exc
        try:
            _record(s, mail, sender, now, outcome, "", ticket.id)
        except IntegrityError:  # the same message at once on two connections: one applies
            s.rollback()
            return Result(Outcome.REFUSED, reason=parse.Refusal.DUPLICATE)
        return Result(outcome, number=ticket.number)


def sender_key(cfg: CrmConfig, address: str) -> str:
    """What the log keeps of a sender: enough to count their mail, not to read it back."""
    return hmac.new(cfg.secret_key.encode(), f"mail-sender:{address}".encode(),
                    hashlib.sha256).hexdigest()


def _record(s: Session, mail: parse.Mail, sender: str, now: datetime, outcome: Outcome,
            reason: str, ticket_id: int | None = None) -> None:
    s.add(MailIn(message_key=mail.key, sender_key=sender, received_at=now,
                 outcome=outcome.value, reason=reason, ticket_id=ticket_id))
    s.flush()


def _flood(s: Session, sender: str, settings: Settings, now: datetime) -> parse.Refusal | None:
    seen = s.scalar(select(func.count()).select_from(MailIn).where(
        MailIn.sender_key == sender, MailIn.received_at > now - timedelta(hours=1))) or 0
    return parse.Refusal.FLOOD if seen >= settings.mail_in_per_sender_hour else None


def _thread(s: Session, mail: parse.Mail) -> Ticket | None:
    number = parse.ticket_number(mail)
    if number is None:
        return None
    t = s.scalar(select(Ticket).where(Ticket.number == number).with_for_update())
    if t is None or (t.email or "").lower() != mail.sender:
        return None
    return t


def _keep_photo(settings: Settings, mail: parse.Mail) -> str | None:
    """The first attachment that is a photo, kept where the portal keeps its photos."""
    directory = settings.data_dir / STORE
    for data in mail.photos:
        try:
            private_dir(directory)
            return url(settings.public_base_url, keep(directory, data,
                                                      settings.portal_photo_max_bytes))
        except PhotoError as exc:
            log.info("mail in: an attachment not kept: %s", exc)
    return None


def _comment(s: Session, t: Ticket, mail: parse.Mail, photo: str | None, cfg: CrmConfig,
             now: datetime) -> None:
    text = mail.text or mail.subject
    if photo and t.media_url is None:
        t.media_url = photo
    elif photo:
        text += f"\n\nPhoto: {photo}"
    service.comment(s, t, "resident", f"By e-mail: {text}", now=now)
    if not notices.resident_comment(s, t, text, cfg, now=now):
        service.comment(s, t, "system", f"{t.agency.name} has no e-mail address: not told",
                        public=False, now=now)


def _cards(s: Session) -> list[classify.TypeCard]:
    return [classify.TypeCard(st.code, st.name,
                              tuple(k.strip() for k in (st.keywords or "").split(",")),
                              any(a.get("required") for a in st.attributes or []))
            for st in s.scalars(select(ServiceType).where(ServiceType.active))]


def _address(s: Session, mail: parse.Mail) -> str | None:
    """The first line of the message (subject first) that is an address the city knows."""
    for line in (mail.subject, *mail.text.splitlines()[:40]):
        line = line.strip(" .,:;")
        if any(ch.isdigit() for ch in line) and len(line) <= 120:
            for piece in (line, *line.split(" at ")[1:]):
                if geocode(s, piece) is not None:
                    return piece.strip()
    return None


def _open(s: Session, mail: parse.Mail, photo: str | None, settings: Settings,
          cfg: CrmConfig, now: datetime) -> Ticket:
    choice = classify.choose(mail.subject, mail.text, _cards(s), settings.mail_in_service_code)
    description = "\n\n".join(p for p in (mail.subject, mail.text) if p)[:parse.MAX_TEXT]
    draft = TicketDraft(choice.code, description=description, channel="email",
                        actor="resident", address=_address(s, mail), email=mail.sender,
                        notify_email=True, media_url=photo, source_client="email")
    t = service.open_ticket(s, draft, now=now, config=cfg)
    if choice.hint:
        service.comment(s, t, "system", f"Looks like {choice.hint}: reclassify it (the "
                        f"e-mail could not answer that type's questions)", public=False, now=now)
    return t
