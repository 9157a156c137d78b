"""The menu as data: a validated YAML file, re-read when its mtime changes (pure but for I/O
in ``MenuFile``)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import yaml

C = TypeVar("C", bound=StrEnum)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KEYS = set("0123456789")
PROMPTS = ("welcome", "language", "main", "invalid", "goodbye", "ticket_ask", "ticket_bad",
           "ticket_unknown", "ticket_status", "ticket_agency", "ticket_due", "ticket_closed",
           "faq_menu", "report_menu", "to_agent", "after_hours", "after_hours_choice",
           "callback_ok", "voicemail", "notice_intro", "queue_position", "queue_wait",
           "queue_minutes")
DEFAULT_MENU = Path(__file__).parent / "menus" / "city.yaml"


class MainChoice(StrEnum):
    """What a main-menu key does (also the call's ``option`` and its path mark)."""

    STATUS = "status"
    FAQ = "faq"
    REPORT = "report"
    AGENT = "agent"


class AfterHoursChoice(StrEnum):
    """What a key of the after-hours menu does (also its path mark)."""

    CALLBACK = "callback"
    VOICEMAIL = "voicemail"


# a menu file that does not list its keys gets these (the words are prompts.*.main and
# prompts.*.after_hours_choice)
DEFAULT_MAIN = {"1": MainChoice.STATUS, "2": MainChoice.FAQ, "3": MainChoice.REPORT,
                "0": MainChoice.AGENT}
DEFAULT_AFTER_HOURS = {"1": AfterHoursChoice.CALLBACK, "2": AfterHoursChoice.VOICEMAIL}


def menu_path(data_dir: Path) -> Path:
    """The city's own menu (``<data_dir>/ivr/menu.yaml``) if there is one, else the default."""
    custom = data_dir / "ivr" / "menu.yaml"
    return custom if custom.exists() else DEFAULT_MENU


class MenuError(ValueError):
    """The menu file is not a valid menu; the message says where."""


@dataclass(frozen=True)
class Choice:
    key: str
    title: dict[str, str]  # language -> words said in the menu
    queue: str | None = None  # report a problem: the agency queue
    answer: dict[str, str] | None = None  # FAQ: the answer read to the caller
    service: str | None = None  # FAQ: a CRM service_code whose FAQ text is the answer


@dataclass(frozen=True)
class Menu:
    timezone: str
    languages: dict[str, str]  # key -> language code, in menu order
    default_language: str
    retries: int  # re-prompts after a timeout or invalid key before an agent
    timeout_s: int
    agent_queue: str
    always_open: bool
    hours: dict[int, tuple[time, time]]  # weekday (0 = Monday) -> open, close
    holidays: frozenset[date]
    prompts: dict[str, dict[str, str]]  # language -> prompt name -> text
    faq: tuple[Choice, ...]
    report: tuple[Choice, ...]
    ticket_max_digits: int = 12
    lookup_attempts: int = 3
    main: dict[str, MainChoice] = field(default_factory=lambda: dict(DEFAULT_MAIN))
    after_hours: dict[str, AfterHoursChoice] = field(
        default_factory=lambda: dict(DEFAULT_AFTER_HOURS))

    def text(self, language: str, name: str) -> str:
        return self.prompts[language][name]


def _hhmm(value: Any, where: str) -> time:
    if not isinstance(value, str) or not re.fullmatch(r"\d\d:\d\d", value):
        raise MenuError(f"{where}: expected HH:MM, got {value!r}")
    h, m = int(value[:2]), int(value[3:])
    if h > 23 or m > 59:
        raise MenuError(f"{where}: no such time {value!r}")
    return time(h, m)


def _texts(raw: Any, langs: list[str], where: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise MenuError(f"{where}: expected one text per language {langs}")
    missing = [lang for lang in langs if not str(raw.get(lang, "")).strip()]
    if missing:
        raise MenuError(f"{where}: missing text for {', '.join(missing)}")
    return {lang: str(raw[lang]).strip() for lang in langs}


def _choices(raw: Any, langs: list[str], where: str, kind: str,
             queues: set[str] | None) -> tuple[Choice, ...]:
    if not isinstance(raw, list) or not raw:
        raise MenuError(f"{where}: expected a non-empty list")
    out: list[Choice] = []
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(item, dict):
            raise MenuError(f"{at}: expected a mapping")
        key = str(item.get("key", ""))
        if key not in KEYS or key == "0":
            raise MenuError(f"{at}.key: a digit 1-9, got {key!r}")
        if any(c.key == key for c in out):
            raise MenuError(f"{at}.key: {key} used twice")
        title = _texts(item.get("title"), langs, f"{at}.title")
        if kind == "report":
            queue = str(item.get("queue", ""))
            if queues is not None and queue not in queues:
                raise MenuError(f"{at}.queue: unknown queue {queue!r}")
            out.append(Choice(key, title, queue=queue))
        elif item.get("service"):
            # the answer is the CRM knowledge base's FAQ text (the words the agents read) in
            # the menu's first language; the other languages give theirs here
            others = langs[1:]
            answer = _texts(item.get("answer"), others, f"{at}.answer") if others else {}
            out.append(Choice(key, title, answer=answer, service=str(item["service"])))
        else:
            out.append(Choice(key, title, answer=_texts(item.get("answer"), langs,
                                                        f"{at}.answer")))
    return tuple(out)


def _keys(raw: Any, kind: type[C], default: dict[str, C], where: str) -> dict[str, C]:
    """``{key: choice}`` of one fixed menu; each choice at most once."""
    if raw is None:
        return dict(default)
    if not isinstance(raw, dict) or not raw:
        raise MenuError(f"{where}: expected {{key: {' | '.join(kind)}}}")
    out: dict[str, C] = {}
    for key, value in raw.items():
        if str(key) not in KEYS:
            raise MenuError(f"{where}: keys must be single digits, got {key!r}")
        try:
            choice = kind(str(value))
        except ValueError as exc:
            raise MenuError(f"{where}.{key}: unknown choice {value!r} "
                            f"(use {', '.join(kind)})") from exc
        if choice in out.values():
            raise MenuError(f"{where}.{key}: {choice} on two keys")
        out[str(key)] = choice
    return out


def with_knowledge(menu: Menu, faq_text: Mapping[str, str],
                   translated: Mapping[str, Mapping[str, str]] | None = None) -> Menu:
    """The menu with every knowledge-base FAQ answered from ``faq_text`` (service_code ->
    text) in the first language, and in another language from ``translated`` (language ->
    service_code -> the catalog's ``i18n`` FAQ) where the catalog has it, else from the
    menu's own answer. One whose service has no text keeps no answer there: the engine
    does not offer it (its key re-prompts) rather than answer with silence."""
    first = next(iter(menu.languages.values()))
    others = translated or {}

    def answered(c: Choice) -> Choice:
        if not c.service or not (text := faq_text.get(c.service, "").strip()):
            return c
        words = {lang: t.strip() for lang, by_code in others.items()
                 if lang != first and (t := by_code.get(c.service, "")).strip()}
        return replace(c, answer={**(c.answer or {}), **words, first: text})

    return replace(menu, faq=tuple(answered(c) for c in menu.faq))


def parse_menu(raw: Any, queues: set[str] | None = None) -> Menu:
    """A Menu from parsed YAML; MenuError naming the first bad field."""
    if not isinstance(raw, dict):
        raise MenuError("menu: expected a mapping at the top")
    langs_raw = raw.get("languages")
    if not isinstance(langs_raw, dict) or not langs_raw:
        raise MenuError("languages: expected {key: language code}")
    languages = {str(k): str(v) for k, v in langs_raw.items()}
    if any(k not in KEYS for k in languages):
        raise MenuError("languages: keys must be single digits")
    langs = list(languages.values())
    default = str(raw.get("default_language", langs[0]))
    if default not in langs:
        raise MenuError(f"default_language: {default!r} is not one of {langs}")
    tz = str(raw.get("timezone", "America/New_York"))
    try:
        from zoneinfo import ZoneInfo
        ZoneInfo(tz)
    except Exception as exc:
        raise MenuError(f"timezone: unknown zone {tz!r}") from exc
    retries, timeout_s = raw.get("retries", 2), raw.get("timeout_s", 5)
    if not isinstance(retries, int) or not 0 <= retries <= 5:
        raise MenuError("retries: an integer 0-5")
    if not isinstance(timeout_s, int) or not 1 <= timeout_s <= 30:
        raise MenuError("timeout_s: an integer 1-30 (seconds)")
    agent_queue = str(raw.get("agent_queue", ""))
    if not agent_queue or (queues is not None and agent_queue not in queues):
        raise MenuError(f"agent_queue: unknown queue {agent_queue!r}")
    hours_raw = raw.get("hours", {}) or {}
    if not isinstance(hours_raw, dict):
        raise MenuError("hours: expected a mapping")
    always_open = bool(hours_raw.get("always_open", False))
    hours: dict[int, tuple[time, time]] = {}
    for name, span in (hours_raw.get("weekly") or {}).items():
        if name not in DAYS:
            raise MenuError(f"hours.weekly: unknown day {name!r} (use {', '.join(DAYS)})")
        start, sep, end = str(span).partition("-")
        if not sep:
            raise MenuError(f"hours.weekly.{name}: expected HH:MM-HH:MM")
        t0, t1 = _hhmm(start, f"hours.weekly.{name}"), _hhmm(end, f"hours.weekly.{name}")
        if t1 <= t0:
            raise MenuError(f"hours.weekly.{name}: closes before it opens")
        hours[DAYS.index(name)] = (t0, t1)
    if not always_open and not hours:
        raise MenuError("hours: give weekly hours or always_open: true")
    holidays = set()
    for d in hours_raw.get("holidays") or []:
        try:
            holidays.add(d if isinstance(d, date) else date.fromisoformat(str(d)))
        except ValueError as exc:
            raise MenuError(f"hours.holidays: not a date {d!r}") from exc
    prompts_raw = raw.get("prompts")
    if not isinstance(prompts_raw, dict):
        raise MenuError("prompts: expected {language: {name: text}}")
    prompts: dict[str, dict[str, str]] = {}
    for lang in langs:
        table = prompts_raw.get(lang)
        if not isinstance(table, dict):
            raise MenuError(f"prompts.{lang}: missing")
        missing = [p for p in PROMPTS if not str(table.get(p, "")).strip()]
        if missing:
            raise MenuError(f"prompts.{lang}: missing {', '.join(missing)}")
        prompts[lang] = {k: str(v).strip() for k, v in table.items()}
        for name, text in prompts[lang].items():
            try:
                text.format(state="", agency="")
            except (KeyError, IndexError, ValueError) as exc:
                raise MenuError(f"prompts.{lang}.{name}: bad placeholder ({exc}); "
                                "only {state} and {agency} exist") from exc
    return Menu(timezone=tz, languages=languages, default_language=default, retries=retries,
                timeout_s=timeout_s, agent_queue=agent_queue, always_open=always_open,
                hours=hours, holidays=frozenset(holidays), prompts=prompts,
                faq=_choices(raw.get("faq"), langs, "faq", "faq", queues),
                report=_choices(raw.get("report"), langs, "report", "report", queues),
                main=_keys(raw.get("main_menu"), MainChoice, DEFAULT_MAIN, "main_menu"),
                after_hours=_keys(raw.get("after_hours_menu"), AfterHoursChoice,
                                  DEFAULT_AFTER_HOURS, "after_hours_menu"))


def load_menu(path: Path, queues: set[str] | None = None) -> Menu:
    """The Menu in the YAML file ``path``; MenuError prefixed with the file's name."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise MenuError(f"{path.name}: not YAML: {exc}") from exc
    try:
        return parse_menu(raw, queues)
    except MenuError as exc:
        raise MenuError(f"{path.name}: {exc}") from exc


class MenuFile:
    """The menu of one file, re-read when the file's mtime changes; a broken edit keeps the
    last good menu (and ``error`` says why)."""

    def __init__(self, path: Path, queues: set[str] | None = None) -> None:
        self.path, self.queues = path, queues
        self._mtime: int | None = None
        self._menu: Menu | None = None
        self.error: str | None = None

    def get(self) -> Menu:
        mtime = os.stat(self.path).st_mtime_ns
        if mtime != self._mtime:
            try:
                self._menu = load_menu(self.path, self.queues)
                self.error = None
            except MenuError as exc:
                self.error = str(exc)
                if self._menu is None:
                    raise
            self._mtime = mtime
        assert self._menu is not None
        return self._menu
