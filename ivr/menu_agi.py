"""The IVR served to Asterisk over FastAGI (route ``ivr``): renders the engine's turns.

``AGI(agi://.../ivr)`` without arguments is the foundation's quick line picker (press 1-5 for
an agency line, anything else or nothing reaches the general line); ``AGI(.../ivr,city)``
runs the city menu of ``ivr/menus/city.yaml`` (or ``<data_dir>/ivr/menu.yaml`` when that file
exists). Either way the dialplan queues the call on CIVIC311_QUEUE (empty: the general queue)
unless CIVIC311_ACTION is ``hangup``; any error here leaves the caller queued, never in dead
air.
"""

from __future__ import annotations

import asyncio
import logging
import time as clock
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from acd import calls
from crm_bridge.public import InvalidTicketNumber, public_status
from foundation.db import Database
from foundation.settings import Settings
from ivr import emergency_notices as notices
from ivr import engine as e
from ivr import voicemail
from ivr.callback import queries as callback_store
from ivr.callback import rules as callback
from ivr.callback.agi import route_back, way_back
from ivr.hours import next_open
from ivr.knowledge import Knowledge
from ivr.menu import Menu, MenuFile, menu_path
from ivr.models import IvrCall, active_notice
from ivr.prompts import PromptCache
from ivr.waiting import estimate_wait_s, wait_minutes
from telephony.fastagi import AgiChannel, AgiHangup, quote
from telephony.install import Install, locate

log = logging.getLogger(__name__)

KEYS = "0123456789*#"
INTER_DIGIT_MS = 3000
NOTICE_TTL_S = 1.0
DEFAULT_AHT_S = 240.0  # until the queue has answered calls in the last two hours
DATE_FORMAT = {"en": "ABdY", "es": "AdBY"}


def utcnow() -> datetime:
    return datetime.now(UTC)


class IvrHandler:
    def __init__(self, settings: Settings, db: Database, install: Install | None = None) -> None:
        self.settings = settings
        self.db = db
        self.install = install or locate(settings)  # the daemon may pass the one it located
        self.prompts = PromptCache.of(self.install)
        self._menus: dict[Path, MenuFile] = {}
        self.knowledge = Knowledge(db)
        self.clock = utcnow
        self._notice_cache: tuple[float, tuple[int | None, str | None, int | None]] | None = None

    def menu(self) -> Menu:
        """The current menu: the data directory's file if there is one, else the default."""
        path = menu_path(self.settings.data_dir)
        if path not in self._menus:
            self._menus[path] = MenuFile(path, set(self.settings.queue_names()))
        return self._menus[path].get()

    async def __call__(self, channel: AgiChannel) -> None:
        if channel.headers.get("agi_arg_1") == "city":
            await self.city(channel)
        else:
            await self.quick(channel)

    async def quick(self, channel: AgiChannel) -> None:
        queues = self.settings.queue_names()
        digit = await channel.stream_file("silence/1", "123456789")
        if digit is None:
            digit = await channel.wait_for_digit(2000)
        index = int(digit) if digit and digit.isdigit() else 0
        queue = queues[index] if 0 < index < len(queues) else queues[0]
        await channel.set_variable("CIVIC311_IVR_PATH", f"menu:{digit or 'none'}")
        await channel.set_variable("CIVIC311_QUEUE", queue)

    # the city menu -------------------------------------------------------------------------

    async def city(self, channel: AgiChannel) -> None:
        menu = await asyncio.to_thread(self.knowledge.apply, self.menu())
        now = self.clock()
        notice_id, notice_text, recording = await self._notice(now)
        turn = e.step(menu, e.State(), e.Start(now, notice_text, recording))
        call = _Call(notice_id, now)
        current: e.Turn | None = turn
        try:
            while current is not None:
                call.state = current.state
                current = await self._render(channel, menu, current, call)
        except AgiHangup:
            call.hung_up = True
            raise
        finally:
            await asyncio.to_thread(self._end, channel, call)

    async def _render(self, channel: AgiChannel, menu: Menu, turn: e.Turn,
                      call: _Call) -> e.Turn | None:
        """Play one turn and carry out its action; the next turn, or None when done."""
        action, state = turn.action, turn.state
        if state.language and state.language != call.language:
            call.language = state.language
            await channel.set_language(state.language)
        if isinstance(action, e.Gather):
            keys = await self._say(channel, menu, turn.say, KEYS)
            digits = await self._collect(channel, action, keys)
            return e.step(menu, state, e.Keys(digits))
        await self._say(channel, menu, turn.say, "")
        if isinstance(action, e.Lookup):
            result = await asyncio.to_thread(self._lookup, menu, action.digits, call)
            return e.step(menu, state, result)
        await channel.set_variable("CIVIC311_IVR_PATH", state.ivr_path())
        if isinstance(action, e.Queue):
            call.queue = action.queue
            await channel.set_variable("CIVIC311_QUEUE", action.queue)
            await self._announce_wait(channel, menu, state, action.queue)
            return None
        if isinstance(action, e.Voicemail):
            folder = voicemail.folder(self.install)
            folder.mkdir(parents=True, exist_ok=True)
            name = channel.uniqueid or f"agi-{id(channel)}"
            call.voicemail = folder / f"{name}.wav"
            await channel.command(f"RECORD FILE {quote(self.install.inner(folder / name))} wav "
                                  f"{quote('#')} {action.max_s * 1000} BEEP s=5")
            await self._say(channel, menu, action.then, "")
        elif isinstance(action, e.Callback):
            booked = await self._book_callback(channel, menu, state)
            await self._say(channel, menu, action.then if booked else (
                e.Text(callback.text(state.language, "not_booked"), state.language),), "")
        await channel.set_variable("CIVIC311_ACTION", "hangup")
        return None

    async def _book_callback(self, channel: AgiChannel, menu: Menu, state: e.State) -> bool:
        """After hours: a callback request at the caller's number, due when agents are next
        in (the daemon's callback runner then calls them back like any other)."""
        number = callback.dialable(channel.caller_number)
        if not callback.valid_number(number):
            log.info("after-hours callback for %s: no number to call back", channel.uniqueid)
            return False
        now = self.clock()
        endpoint, remote = await route_back(channel)
        booked = await asyncio.to_thread(
            callback_store.book, self.db, channel.uniqueid, menu.agent_queue, number,
            way_back(self.settings, endpoint, remote, number), state.language, now,
            next_open(menu, now))
        log.info("after-hours callback %d booked for %s", booked.id, channel.uniqueid)
        return True

    async def _announce_wait(self, channel: AgiChannel, menu: Menu, state: e.State,
                             queue: str) -> None:
        """Position and estimated wait from live data: callers waiting and agents ready now
        (Asterisk), the queue's handle time over the last two hours (call records)."""
        if not queue.replace("-", "").replace("_", "").isalnum():
            return
        values = []
        for expr in (f"${{QUEUE_WAITING_COUNT({queue})}}", f"${{QUEUE_MEMBER({queue},ready)}}",
                     f"${{QUEUE_MEMBER({queue},logged)}}"):
            raw = await channel.get_full_variable(expr)
            values.append(int(raw) if raw and raw.isdigit() else 0)
        ahead, ready, staffed = values
        aht_s = await asyncio.to_thread(self._aht_s, queue)
        wait_s = estimate_wait_s(ahead, ready, staffed, aht_s)
        log.info("queue %s joined: ahead=%d ready=%d staffed=%d aht_s=%.0f ewt_s=%s", queue,
                 ahead, ready, staffed, aht_s, "none" if wait_s is None else f"{wait_s:.0f}")
        call_lang = state.language or menu.default_language
        await channel.set_variable("CIVIC311_EWT_S", "" if wait_s is None else str(int(wait_s)))
        if wait_s is None:
            return  # nobody logged in: the queue refuses the call and says so
        await self._say(channel, menu, (e.Text(menu.text(call_lang, "queue_position"),
                                               call_lang),), "")
        await channel.say_number(ahead + 1)
        if wait_s > 0:
            await self._say(channel, menu, (e.Text(menu.text(call_lang, "queue_wait"),
                                                   call_lang),), "")
            await channel.say_number(wait_minutes(wait_s))
            await self._say(channel, menu, (e.Text(menu.text(call_lang, "queue_minutes"),
                                                   call_lang),
                                            e.Text(callback.text(call_lang, "offer"),
                                                   call_lang)), "")

    def _aht_s(self, queue: str) -> float:
        since = self.clock() - timedelta(hours=2)
        with self.db.session() as s:
            avg = calls.average_handle_s(s, queue, since)
        return avg or DEFAULT_AHT_S

    async def _say(self, channel: AgiChannel, menu: Menu, say: tuple[e.Speech, ...],
                   escape: str) -> str:
        """Play speech in order; a key pressed during it stops the rest and is returned."""
        for item in say:
            if isinstance(item, e.Text):
                key = await channel.stream_file(await self.prompts.sound(item.language,
                                                                         item.text), escape)
            elif isinstance(item, e.Digits):
                key = await channel.say_digits(item.digits, escape)
            elif isinstance(item, e.Recording):
                key = await channel.stream_file(await self._recording(item), escape)
            else:
                noon = datetime.combine(item.day, time(12), ZoneInfo(menu.timezone))
                lang = item.language
                key = await channel.say_date(int(noon.timestamp()), escape,
                                             DATE_FORMAT.get(lang, "ABdY"), menu.timezone)
            if key:
                return key
        return ""

    async def _collect(self, channel: AgiChannel, gather: e.Gather, first: str) -> str:
        digits = first
        if not digits:
            digits = await channel.wait_for_digit(gather.timeout_s * 1000) or ""
        while digits and len(digits) < gather.max_digits and (
                not gather.finish_on_key or not digits.endswith(gather.finish_on_key)):
            more = await channel.wait_for_digit(INTER_DIGIT_MS)
            if more is None:
                break
            digits += more
        return digits

    # database (in a worker thread) ----------------------------------------------------------

    async def _notice(self, now: datetime) -> tuple[int | None, str | None, int | None]:
        """The active notice, read at most once a second (callers hear a new one within 1 s)."""
        if self._notice_cache is None or clock.monotonic() >= self._notice_cache[0]:
            found = await asyncio.to_thread(self._begin, now)
            self._notice_cache = (clock.monotonic() + NOTICE_TTL_S, found)
        return self._notice_cache[1]

    def _begin(self, now: datetime) -> tuple[int | None, str | None, int | None]:
        """The active notice: its id, its text, its id again if it was recorded."""
        with self.db.session() as s:
            notice = active_notice(s, now)
            return (notice.id, notice.text, notice.recording_id) if notice else (None, None, None)

    async def _recording(self, item: e.Recording) -> str:
        """A notice's recording as a sound file Asterisk can play (written once, from the
        database); its transcript spoken by TTS when the recording is gone."""
        name = f"notice-{item.notice_id}"
        path = self.prompts.directory / f"{name}.wav"
        if not path.exists():
            def fetch() -> bytes | None:
                with self.db.session() as s:
                    return notices.recording(s, item.notice_id)

            audio = await asyncio.to_thread(fetch)
            if audio is None:
                return await self.prompts.sound(item.language, item.transcript)
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".part")
            partial.write_bytes(audio)
            partial.replace(path)
        return f"{self.prompts.inner}/{name}"

    def _lookup(self, menu: Menu, digits: str, call: _Call) -> e.Found | e.NotFound:
        call.lookups += 1
        with self.db.session() as s:
            try:
                status = public_status(s, digits, menu.timezone)
            except InvalidTicketNumber:
                return e.NotFound(invalid=True)
        if status is None:
            return e.NotFound(invalid=False)
        call.ticket = status.number
        return e.Found(status.number, status.state, status.closed, status.agency_name,
                       status.expected_date)

    def _end(self, channel: AgiChannel, call: _Call) -> None:
        """One write per call, at its end: the IVR row with everything the caller did."""
        state = call.state
        if state is None:
            return
        if call.queue:
            outcome = "agent"
        elif call.hung_up and state.option is None:
            outcome = "hangup"
        else:
            outcome = e.outcome(state, reached_agent=False)
        with self.db.session() as s:
            s.add(IvrCall(uniqueid=channel.uniqueid or f"agi-{id(channel)}", source="asterisk",
                          caller_number=channel.caller_number or None,
                          started_at=call.started_at, ended_at=self.clock(),
                          notice_id=call.notice_id, ivr_path=state.ivr_path(),
                          language=state.language or None, option=state.option,
                          queue=call.queue, lookups=call.lookups, ticket_number=call.ticket,
                          outcome=outcome,
                          voicemail=call.voicemail.name if call.voicemail else None,
                          voicemail_s=voicemail.seconds(call.voicemail) if call.voicemail
                          else None))


class _Call:
    """What the adapter learns about a call as it renders it."""

    def __init__(self, notice_id: int | None, started_at: datetime) -> None:
        self.notice_id = notice_id
        self.started_at = started_at
        self.lookups = 0
        self.ticket: str | None = None
        self.state: e.State | None = None
        self.language = ""
        self.queue: str | None = None
        self.voicemail: Path | None = None  # the message file, once recording started
        self.hung_up = False
