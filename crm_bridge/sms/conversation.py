"""One inbound text answered, over a session: carrier keywords (STOP/START/HELP), the
language, a ticket's status by its number, or the next turn of the guided exchange
(``dialogue``), whose lookups (the address on the city's map) and whose end (the ticket
opened with channel ``sms``) happen here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from crm_bridge import public
from crm_bridge.config import CrmConfig
from crm_bridge.sms import dialogue, keywords, queries, texts
from crm_bridge.sms.dialogue import Choice, Locate, Submit, Turn
from crm_bridge.sms.keywords import Keyword
from crm_bridge.tickets import service
from crm_bridge.tickets.draft import TicketDraft
from crm_bridge.tickets.errors import CrmError
from places import public as places

MAX_REPLY = 1600  # Twilio's longest message


@dataclass(frozen=True)
class Inbound:
    """A text as the webhook read it: ``phone`` E.164, ``body`` cleaned (``keywords.clean``),
    ``media_url`` the first photo sent with it ("" if none)."""

    message_sid: str
    phone: str
    body: str
    media_url: str = ""
    opt_out_type: str = ""  # Twilio's OptOutType (Advanced Opt-Out), when it sends one


def respond(s: Session, cfg: CrmConfig, msg: Inbound, now: datetime) -> str:
    """The reply to one text ("" for none), with every change it makes written to ``s``."""
    row = queries.phone_row(s, msg.phone, now)
    lang, city = row.language, cfg.city_name
    kw = keywords.keyword(msg.body, msg.opt_out_type)
    ex = dialogue.Exchange.from_json(row.exchange) if row.exchange else None
    expired = ex is not None and row.last_text_at < now - queries.IDLE
    if expired:  # over, whatever this text is
        ex = row.exchange = None
    row.last_text_at = now
    if kw is Keyword.STOP:  # Twilio sends the confirmation carriers require, and blocks
        row.opted_out, row.opted_out_at, row.exchange = True, now, None
        return ""
    if kw is Keyword.START and (row.opted_out or ex is None):  # YES mid-exchange is an answer
        row.opted_out, row.opted_out_at = False, None
        return texts.text(lang, "started", city=city)
    if row.opted_out:  # nothing is texted to a number that said STOP, until it says START
        return ""  # (Twilio answers its HELP itself; a reply of ours would be refused, 21610)
    if kw is Keyword.HELP:
        return texts.text(lang, "help", city=city)
    choices, popular = _catalog(s, now)
    if kw in (Keyword.SPANISH, Keyword.ENGLISH):
        row.language = lang = "es" if kw is Keyword.SPANISH else "en"
        again = dialogue.prompt(ex, choices, popular, lang) if ex else ""
        return f"{texts.text(lang, 'language')} {again}".strip()
    digits = keywords.ticket_digits(msg.body)
    if digits is not None and not msg.media_url:
        return _status(s, cfg, digits, lang)
    if ex is None or kw is Keyword.REPORT:
        turn = dialogue.begin(choices, popular, msg.body, kw, msg.media_url, lang, city)
    else:
        turn = dialogue.answer(ex, choices, popular, msg.body, kw, msg.media_url, lang, city)
    said = [texts.text(lang, "expired", minutes=int(queries.IDLE.total_seconds() // 60))] \
        if expired else []
    turn, said = _act(s, cfg, msg, lang, turn, said)
    row.exchange = turn.exchange.to_json() if turn.exchange else None
    return " ".join(said)[:MAX_REPLY]


def _catalog(s: Session, now: datetime) -> tuple[list[Choice], list[Choice]]:
    """The types to choose from (catalog order), and the same by recent requests, most first
    (the short list a first text is offered)."""
    choices = [Choice(c.code, c.name, c.keywords,
                      tuple(q for q in c.questions if q.get("required")))
               for c in public.catalog(s)]
    rank = {code: i for i, code in enumerate(queries.popular_codes(s, now))}
    popular = sorted(choices, key=lambda c: rank.get(c.code, len(rank)))
    return choices, popular


def _act(s: Session, cfg: CrmConfig, msg: Inbound, lang: str, turn: Turn,
         said: list[str]) -> tuple[Turn, list[str]]:
    """Carry out the turn's lookups until it needs the resident again."""
    said = [*said, turn.reply] if turn.reply else said
    while turn.action is not None and (ex := turn.exchange) is not None:
        if isinstance(turn.action, Locate):
            found = places.geocode(s, turn.action.address)
            turn = dialogue.placed(ex, found.text if found else None,
                                   found.lat if found else None, found.long if found else None,
                                   found.address_id if found else None, lang)
        elif isinstance(turn.action, Submit):
            turn = Turn(None, _open(s, cfg, msg, lang, ex))
        said = [*said, turn.reply] if turn.reply else said
    return turn, said


def _open(s: Session, cfg: CrmConfig, msg: Inbound, lang: str, ex: dialogue.Exchange) -> str:
    draft = TicketDraft(
        ex.service_code, description=ex.description, channel="sms", language=lang,
        actor="resident", attributes=ex.answers, address=ex.address or None,
        address_id=ex.address_id, lat=ex.lat, long=ex.long, phone=msg.phone,
        notify_email=False, notify_sms=True, media_url=ex.media_url or None,
        source_client="sms", idempotency_key=f"sms:{msg.message_sid}")
    try:
        with s.begin_nested():
            t = service.open_ticket(s, draft, config=cfg)
    except CrmError as exc:
        return texts.text(lang, "refused", why=str(exc))
    due = t.due_at.astimezone(cfg.calendar.tz).date() if t.due_at else None
    return texts.text(lang, "opened", number=t.number,
                      service=public.type_name(t.service_type, lang),
                      expected=texts.when(lang, due))


def _status(s: Session, cfg: CrmConfig, digits: str, lang: str) -> str:
    """What anyone holding the number may learn (``public.public_status``: no personal data)."""
    if not keywords.valid_ticket(digits):
        return texts.text(lang, "bad_ticket", number=digits)
    st = public.public_status(s, digits, str(cfg.calendar.tz), lang)
    if st is None:
        return texts.text(lang, "no_ticket", number=digits)
    if st.closed:
        return texts.text(lang, "status_closed", city=cfg.city_name, number=st.number,
                          service=st.service_name, resolution=st.resolution or "")
    return texts.text(lang, "status", city=cfg.city_name, number=st.number,
                      service=st.service_name, state=texts.state(lang, st.state),
                      agency=st.agency_name, expected=texts.when(lang, st.expected_date))
