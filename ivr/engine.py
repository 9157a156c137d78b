"""The IVR as a pure state machine: ``step(menu, state, input) -> Turn``.

A Turn is what to say (text, digits, a date) and one action: gather keys, look a ticket up,
queue for an agent, take a callback or a voicemail, or hang up. FastAGI and TwiML render the
same turns. Timeouts and invalid keys re-prompt ``menu.retries`` times, then reach an agent
(after hours: say goodbye). The engine never waits on anything, so it cannot leave dead air.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum

from ivr.hours import is_open
from ivr.menu import AfterHoursChoice, Choice, MainChoice, Menu

MAX_PATH = 240


class Node(StrEnum):
    """Where a call is in the menu (the states of the step machine)."""

    START = "start"
    LANGUAGE = "language"
    MAIN = "main"
    TICKET = "ticket"
    LOOKUP = "lookup"
    FAQ = "faq"
    REPORT = "report"
    AFTER_HOURS = "after_hours"
    DONE = "done"


# what to say
@dataclass(frozen=True)
class Text:
    text: str
    language: str


@dataclass(frozen=True)
class Digits:
    digits: str  # said digit by digit (SAY DIGITS)


@dataclass(frozen=True)
class Date:
    day: date  # said with the PBX's own date sounds (SAY DATETIME)
    language: str = "en"


@dataclass(frozen=True)
class Recording:
    notice_id: int  # an emergency notice's uploaded recording (ivr_notices.audio)
    transcript: str  # what it says (said instead where audio cannot be played)
    language: str


Speech = Text | Digits | Date | Recording


# what to do next
@dataclass(frozen=True)
class Gather:
    max_digits: int
    timeout_s: int
    finish_on_key: str = ""  # "#" for ticket numbers


@dataclass(frozen=True)
class Lookup:
    digits: str


@dataclass(frozen=True)
class Queue:
    queue: str


@dataclass(frozen=True)
class Callback:
    then: tuple[Speech, ...]


@dataclass(frozen=True)
class Voicemail:
    max_s: int
    then: tuple[Speech, ...]


@dataclass(frozen=True)
class Hangup:
    pass


Action = Gather | Lookup | Queue | Callback | Voicemail | Hangup


# what the caller (or the lookup) did
@dataclass(frozen=True)
class Start:
    at: datetime
    notice: str | None = None  # an emergency notice, said before anything else
    notice_recording: int | None = None  # its notice id when it was recorded: played instead


@dataclass(frozen=True)
class Keys:
    digits: str  # "" = timeout


@dataclass(frozen=True)
class Found:
    number: str
    state: str  # plain words
    closed: bool
    agency: str
    expected: date | None


@dataclass(frozen=True)
class NotFound:
    invalid: bool  # True: a typo (check digit); False: a valid number nobody issued


Input = Start | Keys | Found | NotFound


@dataclass(frozen=True)
class State:
    node: Node = Node.START
    language: str = ""
    tries: int = 0
    lookups: int = 0
    is_open: bool = True
    option: str | None = None  # the first main-menu choice: status faq report agent after_hours
    ticket: str | None = None  # the last ticket found
    path: tuple[str, ...] = field(default_factory=tuple)

    def ivr_path(self) -> str:
        text = "menu:" + ">".join(self.path)
        return text if len(text) <= MAX_PATH else text[:MAX_PATH - 3] + "..."


@dataclass(frozen=True)
class Turn:
    state: State
    say: tuple[Speech, ...]
    action: Action


class EngineError(ValueError):
    """An input the current node cannot take (a bug in an adapter, not a caller's key)."""


def _t(menu: Menu, s: State, name: str, **values: object) -> Text:
    lang = s.language or menu.default_language
    return Text(menu.text(lang, name).format(**values), lang)


def _go(s: State, node: Node, mark: str | None = None, **changes: object) -> State:
    path = s.path + ((mark,) if mark else ())
    return replace(s, node=node, tries=0, path=path, **changes)  # type: ignore[arg-type]


def _faq(menu: Menu, s: State) -> tuple[Choice, ...]:
    """The FAQs that have an answer in the caller's language (a knowledge-base FAQ whose
    catalog text is missing is not offered: its key re-prompts, nobody hears silence)."""
    return tuple(c for c in menu.faq if c.answer and c.answer.get(s.language))


def _choices_text(menu: Menu, s: State, choices: tuple[Choice, ...]) -> tuple[Speech, ...]:
    lang = s.language or menu.default_language
    return tuple(Text(c.title[lang], lang) for c in choices)


def _prompt(menu: Menu, s: State) -> Turn:
    """The prompt of the node ``s`` is at, with its gather."""
    one = Gather(1, menu.timeout_s)
    if s.node == Node.LANGUAGE:
        say = tuple(Text(menu.text(lang, "language"), lang) for lang in menu.languages.values())
        return Turn(s, say, one)
    if s.node == Node.MAIN:
        return Turn(s, (_t(menu, s, "main"),), one)
    if s.node == Node.FAQ:
        return Turn(s, (_t(menu, s, "faq_menu"), *_choices_text(menu, s, _faq(menu, s))), one)
    if s.node == Node.REPORT:
        return Turn(s, (_t(menu, s, "report_menu"), *_choices_text(menu, s, menu.report)), one)
    if s.node == Node.TICKET:
        return Turn(s, (_t(menu, s, "ticket_ask"),),
                    Gather(menu.ticket_max_digits, menu.timeout_s * 2, "#"))
    if s.node == Node.AFTER_HOURS:
        return Turn(s, (_t(menu, s, "after_hours_choice"),), one)
    raise EngineError(f"no prompt at node {s.node!r}")


def _agent(menu: Menu, s: State, queue: str, mark: str, say: tuple[Speech, ...] = ()) -> Turn:
    s = _go(s, Node.DONE, mark, option=s.option or MainChoice.AGENT.value)
    return Turn(s, (*say, _t(menu, s, "to_agent")), Queue(queue))


def _goodbye(menu: Menu, s: State, mark: str, say: tuple[Speech, ...] = ()) -> Turn:
    s = _go(s, Node.DONE, mark)
    return Turn(s, (*say, _t(menu, s, "goodbye")), Hangup())


def _retry(menu: Menu, s: State, digits: str) -> Turn:
    """A timeout or an invalid key: re-prompt, or after the retries an agent (or goodbye)."""
    mark = f"{s.node}:{'timeout' if not digits else 'invalid'}"
    if s.tries >= menu.retries:
        if s.node == Node.LANGUAGE:
            s = replace(s, language=menu.default_language)
        if not s.is_open:
            return _goodbye(menu, s, mark)
        return _agent(menu, s, menu.agent_queue, mark)
    s = replace(s, tries=s.tries + 1, path=s.path + (mark,))
    turn = _prompt(menu, s)
    return replace(turn, say=(_t(menu, s, "invalid"), *turn.say))


def _after_language(menu: Menu, s: State) -> Turn:
    if s.is_open:
        return _prompt(menu, s)
    s = replace(s, node=Node.AFTER_HOURS, option="after_hours")
    turn = _prompt(menu, s)
    return replace(turn, say=(_t(menu, s, "after_hours"), *turn.say))


def step(menu: Menu, s: State, event: Input) -> Turn:
    """The next turn of a call at state ``s`` given what just happened."""
    if isinstance(event, Start):
        if s.node != Node.START:
            raise EngineError("Start only begins a call")
        s = State(node=Node.LANGUAGE, is_open=is_open(menu, event.at), path=("start",))
        say: tuple[Speech, ...] = (_t(menu, s, "welcome"),)
        if event.notice:
            s = replace(s, path=s.path + ("notice",))
            lang = menu.default_language
            spoken: Speech = (Recording(event.notice_recording, event.notice, lang)
                              if event.notice_recording else Text(event.notice, lang))
            say += (_t(menu, s, "notice_intro"), spoken)
        turn = _prompt(menu, s)
        return replace(turn, say=say + turn.say)
    if isinstance(event, Found | NotFound):
        if s.node != Node.LOOKUP:
            raise EngineError("a lookup result arrived outside a lookup")
        return _looked_up(menu, s, event)
    if s.node in (Node.START, Node.LOOKUP, Node.DONE):
        raise EngineError(f"keys at node {s.node!r}")
    d = event.digits
    if s.node == Node.TICKET:
        if not d.strip("#*"):
            return _retry(menu, s, d)
        return Turn(replace(s, node=Node.LOOKUP), (), Lookup(d.strip("#*")))
    key = d[:1]
    if s.node == Node.LANGUAGE:
        chosen = menu.languages.get(key)
        if chosen is None:
            return _retry(menu, s, d)
        return _after_language(menu, _go(s, Node.MAIN, f"lang:{chosen}", language=chosen))
    if s.node == Node.MAIN:
        return _main(menu, s, d)
    if s.node in (Node.FAQ, Node.REPORT):
        choices = _faq(menu, s) if s.node == Node.FAQ else menu.report
        choice = next((c for c in choices if c.key == key), None)
        if choice is None:
            return _retry(menu, s, d)
        if s.node == Node.REPORT:
            assert choice.queue is not None
            return _agent(menu, s, choice.queue, f"report:{choice.queue}")
        assert choice.answer is not None
        s2 = _go(s, Node.MAIN, f"faq:{key}")
        turn = _prompt(menu, s2)
        return replace(turn, say=(Text(choice.answer[s2.language], s2.language), *turn.say))
    if s.node == Node.AFTER_HOURS:
        return _after_hours(menu, s, d)
    raise EngineError(f"unknown node {s.node!r}")


SUBMENU = {MainChoice.STATUS: Node.TICKET, MainChoice.FAQ: Node.FAQ,
           MainChoice.REPORT: Node.REPORT}


def _main(menu: Menu, s: State, d: str) -> Turn:
    """A key at the main menu: what ``menu.main`` says it does."""
    choice = menu.main.get(d[:1])
    if choice is None:
        return _retry(menu, s, d)
    if choice is MainChoice.AGENT:
        return _agent(menu, s, menu.agent_queue, choice.value)
    return _prompt(menu, _go(s, SUBMENU[choice], choice.value,
                             option=s.option or choice.value))


def _after_hours(menu: Menu, s: State, d: str) -> Turn:
    """A key at the after-hours menu: a callback or a voicemail (``menu.after_hours``)."""
    choice = menu.after_hours.get(d[:1])
    if choice is None:
        return _retry(menu, s, d)
    s2 = _go(s, Node.DONE, choice.value)
    if choice is AfterHoursChoice.CALLBACK:
        return Turn(s2, (), Callback((_t(menu, s2, "callback_ok"), _t(menu, s2, "goodbye"))))
    return Turn(s2, (_t(menu, s2, "voicemail"),), Voicemail(120, (_t(menu, s2, "goodbye"),)))


def _looked_up(menu: Menu, s: State, r: Found | NotFound) -> Turn:
    s = replace(s, node=Node.TICKET, lookups=s.lookups + 1)
    if isinstance(r, NotFound):
        s = replace(s, path=s.path + ("lookup:" + ("typo" if r.invalid else "unknown"),))
        said = _t(menu, s, "ticket_bad" if r.invalid else "ticket_unknown")
        if s.lookups >= menu.lookup_attempts:
            return _agent(menu, s, menu.agent_queue, "lookup:gave-up", (said,)) if s.is_open \
                else _goodbye(menu, s, "lookup:gave-up", (said,))
        turn = _prompt(menu, s)
        return replace(turn, say=(said, *turn.say))
    say: list[Speech] = [_t(menu, s, "ticket_status"), Digits(r.number),
                         _t(menu, s, "ticket_agency", state=r.state, agency=r.agency)]
    if r.closed:
        say.append(_t(menu, s, "ticket_closed"))
    elif r.expected is not None:
        say += [_t(menu, s, "ticket_due"), Date(r.expected, s.language or menu.default_language)]
    s2 = _go(s, Node.MAIN, "lookup:found", ticket=r.number)
    turn = _prompt(menu, s2)
    return replace(turn, say=(*say, *turn.say))


def outcome(s: State, reached_agent: bool) -> str:
    """How the IVR part of a call ended: agent, callback, voicemail or contained."""
    if reached_agent:
        return "agent"
    last = s.path[-1] if s.path else ""
    return last if last in ("callback", "voicemail") else "contained"
