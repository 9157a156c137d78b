"""A received message read into what intake needs (pure: the standard library's ``email``
package with ``policy.default``), and the rules that refuse one.

Refused without a word back (RFC 3834: never answer an automatic message): ``Auto-Submitted``
other than ``no``, ``Precedence: bulk|junk|list``, ``X-Autoreply`` / ``X-Autorespond``, a
``List-Id``, a delivery report or a null envelope sender (a bounce), and mail from our own
address (a loop). Not mail at all (no sender, no text and no photo) is ``Junk``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from enum import StrEnum
from html.parser import HTMLParser

from crm_bridge.tickets.checkdigit import is_valid

MAX_TEXT = 4000  # foundation.limits.MAX_TEXT: a description or a comment
NUMBER = re.compile(r"(?<!\d)(\d{9})(?!\d)")  # checkdigit.BASE + serial + check digit
THREAD_ID = re.compile(r"\.t(\d{9})@")  # our notices' Message-ID: <...t<number>@domain>
QUOTE_START = re.compile(r"^(On .{4,200} wrote:|-{2,} ?Original Message ?-{2,}|From: .+)$",
                         re.IGNORECASE)


class Refusal(StrEnum):
    """Why a message changed nothing but its own record."""

    AUTO_REPLY = "auto_reply"  # Auto-Submitted, X-Autoreply, a bounce
    BULK = "bulk"  # Precedence bulk/junk/list, List-Id
    LOOP = "loop"  # from our own address
    DUPLICATE = "duplicate"  # a Message-ID already processed
    FLOOD = "flood"  # more than mail_in_per_sender_hour from one sender


class Junk(ValueError):
    """Not a message intake can use: the SMTP listener answers 550 and nothing changes."""


@dataclass(frozen=True)
class Mail:
    message_id: str  # as sent, or a digest of the bytes when there is none
    sender: str  # the From address, lower-cased
    subject: str
    text: str  # the body as plain text, quoted history cut, clipped to MAX_TEXT
    photos: tuple[bytes, ...]
    references: tuple[str, ...]  # In-Reply-To and References
    automatic: Refusal | None  # set when a header says no person wrote it

    @property
    def key(self) -> str:
        """What the log stores for the Message-ID (its SHA-256)."""
        return hashlib.sha256(self.message_id.encode("utf-8", "surrogatepass")).hexdigest()


def read(raw: bytes, envelope_from: str | None = None) -> Mail:
    """Parse ``raw`` (an RFC 5322 message); ``envelope_from`` is SMTP's MAIL FROM when known
    ("" is the null sender of a bounce). Junk when it has no sender, or neither text nor photo."""
    try:
        msg = BytesParser(policy=default).parsebytes(raw)
        sender = _sender(msg)
        subject = _clean(str(msg.get("Subject", "")), 255).replace("\n", " ")
        body = _body(msg)
        photos = tuple(_photos(msg))
        refs = tuple(str(msg.get(h, "")) for h in ("In-Reply-To", "References") if msg.get(h))
        message_id = str(msg.get("Message-ID", "")).strip()
    except (ValueError, LookupError, TypeError, AttributeError) as exc:  # malformed headers
        raise Junk(f"the message cannot be read: {exc}") from exc
    if not body and not photos:
        raise Junk("the message has no text and no photo")
    return Mail(message_id=message_id or "sha256:" + hashlib.sha256(raw).hexdigest(),
                sender=sender, subject=subject, text=fresh_text(body), photos=photos,
                references=refs, automatic=automatic(msg, envelope_from))


def _sender(msg: EmailMessage) -> str:
    header = msg.get("From")
    addresses = getattr(header, "addresses", ()) if header is not None else ()
    if not addresses or "@" not in addresses[0].addr_spec:
        raise Junk("the message has no sender address")
    return str(addresses[0].addr_spec).lower()


def automatic(msg: EmailMessage, envelope_from: str | None) -> Refusal | None:
    """Why no person wrote this message (RFC 3834 and the common vendor headers), or None."""
    if str(msg.get("Auto-Submitted", "no")).strip().lower().split(";")[0] != "no":
        return Refusal.AUTO_REPLY
    if msg.get("X-Autoreply") is not None or msg.get("X-Autorespond") is not None:
        return Refusal.AUTO_REPLY
    if envelope_from == "" or msg.get_content_type() == "multipart/report":
        return Refusal.AUTO_REPLY  # a bounce or a delivery report
    if str(msg.get("Precedence", "")).strip().lower() in ("bulk", "junk", "list"):
        return Refusal.BULK
    if msg.get("List-Id") is not None:
        return Refusal.BULK
    return None


def refusal(mail: Mail, own: set[str]) -> Refusal | None:
    """The header rules and the loop rule; the log's rules (repeat, flood) are intake's."""
    if mail.sender in own:
        return Refusal.LOOP
    return mail.automatic


def ticket_number(mail: Mail) -> str | None:
    """The ticket a reply is about: our Message-ID in In-Reply-To/References, else a
    check-digit-valid number in the subject."""
    for ref in mail.references:
        for found in THREAD_ID.findall(ref):
            if is_valid(found):
                return str(found)
    return next((n for n in NUMBER.findall(mail.subject) if is_valid(n)), None)


def fresh_text(text: str) -> str:
    """A reply's own words: quoted lines (``>``) and everything from "On ... wrote:" cut."""
    kept: list[str] = []
    for line in text.splitlines():
        if QUOTE_START.match(line.strip()) and kept:
            break
        if not line.lstrip().startswith(">"):
            kept.append(line.rstrip())
    return _clean("\n".join(kept).strip(), MAX_TEXT)


def _clean(text: str, limit: int) -> str:
    """Control characters but line breaks and tabs made spaces; clipped to ``limit``."""
    return "".join(ch if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs") else " "
                   for ch in text.replace("\r\n", "\n"))[:limit].strip()


def _body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    if not isinstance(content, str):
        return ""
    return _Text.of(content) if part.get_content_subtype() == "html" else content.strip()


def _photos(msg: EmailMessage) -> list[bytes]:
    out: list[bytes] = []
    for part in msg.walk():
        if part.get_content_maintype() == "image" and not part.is_multipart():
            data = part.get_content()
            if isinstance(data, bytes) and data:
                out.append(data)
    return out


class _Text(HTMLParser):
    """The words of an HTML-only message (scripts and styles dropped)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in ("br", "p", "div", "li", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)

    @classmethod
    def of(cls, html: str) -> str:
        p = cls()
        p.feed(html)
        p.close()
        return re.sub(r"\n\s*\n+", "\n\n", "".join(p.parts)).strip()
