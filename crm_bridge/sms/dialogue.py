"""The guided exchange of a report by SMS (pure): pick the type (by its number in a short
list, or by words searched over the catalog's names and keywords), answer the type's
required questions (lists as numbered options), give the address, send a photo or SKIP.

Each inbound text is one turn: ``begin`` starts an exchange, ``answer`` moves it on. A turn
carries the reply and, when the adapter must look something up, an action: ``Locate`` (the
address, geocoded by the adapter, then ``placed``) or ``Submit`` (the exchange is complete:
the adapter opens the ticket). The state is an ``Exchange``, kept as JSON between texts.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

from crm_bridge.sms import texts
from crm_bridge.sms.keywords import Keyword
from crm_bridge.tickets.attributes import LIST_TYPES, validate_answers
from crm_bridge.tickets.errors import InvalidInput

SHORT_LIST = 8  # types offered by number before any word is typed
MAX_ADDRESS = 200  # characters; a longer text is not a street address
STOPWORDS = frozenset(("the", "and", "there", "theres", "with", "from", "this", "that", "have",
                       "has", "for", "not", "are", "was", "our", "your", "its", "near",
                       "outside"))  # words of three letters or more that name no problem


class Step(StrEnum):
    TYPE = "type"
    QUESTION = "question"
    ADDRESS = "address"
    PHOTO = "photo"


@dataclass(frozen=True)
class Choice:
    """A service type as the exchange offers it; ``questions``: the required ones it asks."""

    code: str
    name: str
    keywords: str
    questions: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Exchange:
    step: Step = Step.TYPE
    offered: tuple[str, ...] = ()  # service codes by number, at the TYPE step
    service_code: str = ""
    question: int = 0  # index into the chosen type's questions
    answers: dict[str, Any] = field(default_factory=dict)
    description: str = ""  # the resident's first words, when they were not a keyword
    address: str = ""
    address_id: str | None = None
    lat: float | None = None
    long: float | None = None
    media_url: str = ""

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "offered": list(self.offered)}

    @staticmethod
    def from_json(raw: Any) -> Exchange | None:
        """The stored state, or None when it cannot be read (then a new exchange starts)."""
        try:
            return Exchange(**{**raw, "step": Step(raw["step"]),
                               "offered": tuple(raw.get("offered") or ())})
        except (TypeError, KeyError, ValueError):
            return None


@dataclass(frozen=True)
class Locate:
    address: str


@dataclass(frozen=True)
class Submit:
    pass


@dataclass(frozen=True)
class Turn:
    exchange: Exchange | None  # None: the exchange is over (or never began)
    reply: str
    action: Locate | Submit | None = None


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _words(text: str) -> list[str]:
    return [w for w in "".join(ch if ch.isalnum() else " " for ch in _fold(text)).split()
            if len(w) >= 3 and w not in STOPWORDS]


def search(choices: list[Choice], text: str) -> list[Choice]:
    """The types whose name or keywords share the most words with ``text`` ("potholes"
    finds "Pothole"); empty when no word matches."""
    typed = _words(text)
    scored = []
    for c in choices:
        own = _words(f"{c.name} {c.keywords}")
        score = sum(1 for t in typed if any(w.startswith(t) or t.startswith(w) for w in own))
        if score:
            scored.append((score, c))
    best = max((s for s, _ in scored), default=0)
    return [c for s, c in scored if s == best]


def _by_code(choices: list[Choice], code: str) -> Choice | None:
    return next((c for c in choices if c.code == code), None)


def _offer(ex: Exchange, offered: list[Choice], key: str, lang: str, **values: str) -> Turn:
    ex = replace(ex, step=Step.TYPE, offered=tuple(c.code for c in offered))
    return Turn(ex, texts.text(lang, key, options=texts.options([c.name for c in offered]),
                               **values))


def begin(choices: list[Choice], popular: list[Choice], text: str, keyword: Keyword | None,
          media_url: str, lang: str, city: str) -> Turn:
    """A new exchange from the resident's first text (REPORT, or words about the problem,
    which are kept as the request's description)."""
    description = "" if keyword is not None else text
    ex = Exchange(description=description, media_url=media_url)
    found = search(choices, description) if description else []
    if len(found) == 1:
        return _chosen(ex, found[0], lang)
    if found:
        return _offer(ex, found[:SHORT_LIST], "pick", lang)
    return _offer(ex, popular[:SHORT_LIST], "menu", lang, city=city)


def _chosen(ex: Exchange, choice: Choice, lang: str) -> Turn:
    ex = replace(ex, service_code=choice.code, offered=(), question=0, answers={})
    said = texts.text(lang, "chosen", name=choice.name)
    if choice.questions:
        ex = replace(ex, step=Step.QUESTION)
        return Turn(ex, f"{said} {question_text(choice.questions[0], lang)}")
    return Turn(replace(ex, step=Step.ADDRESS), f"{said} {texts.text(lang, 'address')}")


def question_text(d: dict[str, Any], lang: str) -> str:
    """A question as a text: lists as numbered options."""
    kind = d["datatype"]
    if kind in LIST_TYPES:
        how = texts.text(lang, "choose_many" if kind == "multivaluelist" else "choose_one")
        return f"{d['description']} {how}\n{texts.options([v['name'] for v in d['values']])}"
    hint = {"number": "a_number", "datetime": "a_date"}.get(kind)
    return f"{d['description']}" + (f" {texts.text(lang, hint)}" if hint else "")


def parse_answer(d: dict[str, Any], text: str) -> Any:
    """The answer in the catalog's terms (list keys), or InvalidInput; options are chosen
    by number or by name."""
    value: Any = text
    if d["datatype"] in LIST_TYPES:
        values = d["values"]
        by_name = {_fold(v["name"]): v["key"] for v in values} | {
            _fold(v["key"]): v["key"] for v in values}
        if _fold(text).strip() in by_name:
            keys = [by_name[_fold(text).strip()]]
        else:
            parts = text.replace(",", " ").split()
            if not parts or not all(p.isdigit() and 1 <= int(p) <= len(values) for p in parts):
                raise InvalidInput(d["code"], "not one of the options")
            keys = list(dict.fromkeys(values[int(p) - 1]["key"] for p in parts))
        value = keys if d["datatype"] == "multivaluelist" else keys[0]
        if d["datatype"] != "multivaluelist" and len(keys) > 1:
            raise InvalidInput(d["code"], "one option only")
    return validate_answers([d], {d["code"]: value})[d["code"]]


def prompt(ex: Exchange, choices: list[Choice], popular: list[Choice], lang: str) -> str:
    """What the exchange is waiting for, said again (after a language switch)."""
    choice = _by_code(choices, ex.service_code)
    if ex.step is Step.QUESTION and choice is not None and ex.question < len(choice.questions):
        return question_text(choice.questions[ex.question], lang)
    if ex.step is Step.ADDRESS:
        return texts.text(lang, "address")
    if ex.step is Step.PHOTO:
        return texts.text(lang, "photo")
    offered = [c for code in ex.offered if (c := _by_code(choices, code))] or popular
    return texts.text(lang, "pick", options=texts.options([c.name for c in offered]))


def answer(ex: Exchange, choices: list[Choice], popular: list[Choice], text: str,
           keyword: Keyword | None, media_url: str, lang: str, city: str) -> Turn:
    """The next turn of an exchange under way (``media_url``: a photo sent with this text)."""
    if media_url:
        ex = replace(ex, media_url=media_url)
    if ex.step is Step.TYPE:
        return _pick(ex, choices, popular, text, lang, city)
    choice = _by_code(choices, ex.service_code)
    if choice is None:  # the type left the catalog mid-exchange: choose again
        return _offer(Exchange(description=ex.description), popular[:SHORT_LIST], "menu",
                      lang, city=city)
    if ex.step is Step.QUESTION:
        return _question(ex, choice, text, lang)
    if ex.step is Step.ADDRESS:
        if not text or keyword is not None:  # SKIP is no address: the place is needed
            return Turn(ex, texts.text(lang, "address"))
        if len(text) > MAX_ADDRESS:
            return Turn(ex, texts.text(lang, "address_long"))
        return Turn(replace(ex, address=text), "", Locate(text))
    if ex.media_url or keyword is Keyword.SKIP:
        return Turn(ex, "", Submit())
    return Turn(ex, texts.text(lang, "photo_again"))


def _pick(ex: Exchange, choices: list[Choice], popular: list[Choice], text: str, lang: str,
          city: str) -> Turn:
    offered = [c for code in ex.offered if (c := _by_code(choices, code))]
    if text.isdigit() and 1 <= int(text) <= len(offered):
        return _chosen(ex, offered[int(text) - 1], lang)
    found = search(choices, text)
    if len(found) == 1:
        return _chosen(ex, found[0], lang)
    if found:
        return _offer(ex, found[:SHORT_LIST], "pick", lang)
    return _offer(ex, offered or popular[:SHORT_LIST], "no_match", lang, words=text[:40])


def _question(ex: Exchange, choice: Choice, text: str, lang: str) -> Turn:
    d = choice.questions[ex.question]
    try:
        value = parse_answer(d, text)
    except InvalidInput:
        return Turn(ex, f"{texts.text(lang, 'bad_answer')} {question_text(d, lang)}")
    ex = replace(ex, answers={**ex.answers, d["code"]: value}, question=ex.question + 1)
    if ex.question < len(choice.questions):
        return Turn(ex, question_text(choice.questions[ex.question], lang))
    return Turn(replace(ex, step=Step.ADDRESS), texts.text(lang, "address"))


def placed(ex: Exchange, found: str | None, lat: float | None, long: float | None,
           address_id: str | None, lang: str) -> Turn:
    """After ``Locate``: the address as the city's map has it (``found``), or as typed."""
    if found is not None and lat is not None:
        ex = replace(ex, address=found, lat=lat, long=long, address_id=address_id)
        said = texts.text(lang, "found", address=found)
    else:
        said = texts.text(lang, "not_found", address=ex.address)
    if ex.media_url:
        return Turn(ex, said, Submit())
    return Turn(replace(ex, step=Step.PHOTO), f"{said} {texts.text(lang, 'photo')}")
