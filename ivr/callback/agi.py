"""The callback route of the FastAGI server: ``AGI(agi://.../callback,<step>,...)``.

Steps, each called from the dialplan (asterisk_conf/templates/extensions.conf.j2):

- ``offer,<queue>``: the caller pressed the callback key while waiting (they have just left
  the queue, app_queue logged EXITWITHKEY). Read their number back, take 1 or another number
  and ``#``; once confirmed, store the request, log ``CALLBACK`` to queue_log (the original
  call's outcome) and set CIVIC311_CALLBACK to its id. Not confirmed: the dialplan queues the
  caller again, never leaving them in dead air.
- ``hold,<id>``: the placeholder is about to join; sets CB_OK, CB_QUEUE, CB_POS, CB_NUMBER.
- ``dial,<id>``: an agent answered the placeholder; sets CB_DIAL (the resident's route).
- ``result,<id>,<DIALSTATUS>,<ANSWEREDTIME>``: the callback dial ended (on a dead channel).
- ``left,<id>,<QUEUESTATUS>``: the placeholder left the queue with no agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from foundation.db import Database
from foundation.settings import Settings
from ivr.callback import queries as store
from ivr.callback import rules as cb
from ivr.prompts import PromptCache
from telephony.fastagi import AgiChannel, AgiError
from telephony.install import Install, locate
from telephony.trunk import config as trunk_config
from telephony.trunk.dial_policy import carrier_number

log = logging.getLogger(__name__)

KEYS = "0123456789*#"
INTER_DIGIT_MS = 3000
ANSWER_TIMEOUT_MS = 6000


def utcnow() -> datetime:
    return datetime.now(UTC)


async def route_back(channel: AgiChannel) -> tuple[str, str]:
    """The caller's endpoint and the address their call came from (the way back)."""
    values = []
    for expr in ("${CHANNEL(endpoint)}", "${CHANNEL(pjsip,remote_addr)}"):
        value = None
        with contextlib.suppress(AgiError):
            value = await channel.get_full_variable(expr)
        values.append(value or "")
    return values[0], values[1]


def way_back(settings: Settings, endpoint: str, remote: str, number: str) -> str:
    """The dial string of a callback to ``number``: out through the carrier trunk when one is
    configured and its dial policy lets the number out (the confirmed number, whatever
    endpoint the call came in on), else back the way the call came (``rules.dial_string``)."""
    if settings.trunk is not None:
        to = carrier_number(number, trunk_config.allowances(settings))
        if to is not None:
            return cb.carrier_dial(trunk_config.ENDPOINT, to)
    return cb.dial_string(endpoint, remote, number)


class CallbackAgi:
    def __init__(self, settings: Settings, db: Database, install: Install | None = None) -> None:
        self.settings = settings
        self.db = db
        self.prompts = PromptCache.of(install or locate(settings))
        self.clock = utcnow

    async def __call__(self, channel: AgiChannel) -> None:
        args = [channel.headers.get(f"agi_arg_{i}", "") for i in range(1, 5)]
        step, rest = args[0], args[1:]
        if step == "offer":
            await self.offer(channel, rest[0])
            return
        try:
            cb_id = int(rest[0])
        except ValueError:
            log.error("callback AGI %s without a callback id", step)
            return
        now = self.clock()
        if step == "hold":
            hold = await asyncio.to_thread(store.claim_hold, self.db, cb_id, channel.uniqueid,
                                           channel.headers.get("agi_channel", ""), now)
            if hold is None:
                log.warning("callback %d: stale placeholder %s hangs up", cb_id,
                            channel.uniqueid)
                await channel.set_variable("CB_OK", "0")
                return
            log.info("callback %d waits in %s at position %d", cb_id, hold.queue,
                     hold.position)
            for name, value in (("CB_QUEUE", hold.queue), ("CB_POS", str(hold.position)),
                                ("CB_NUMBER", hold.number), ("CB_OK", "1")):
                await channel.set_variable(name, value)
        elif step == "dial":
            dial = await asyncio.to_thread(store.start_dial, self.db, cb_id, now)
            log.info("callback %d: agent answered, %s", cb_id,
                     "calling the resident" if dial else "not waiting (stale)")
            await channel.set_variable("CB_DIAL", dial or "")
            await channel.set_variable("CB_RING_S", str(cb.RING_S))
        elif step == "result":
            answered = int(rest[2]) if rest[2].isdigit() else 0
            state = await asyncio.to_thread(store.finish_dial, self.db, cb_id, rest[1],
                                            answered, now)
            log.info("callback %d: dial %s -> %s", cb_id, rest[1] or "?", state)
        elif step == "left":
            state = await asyncio.to_thread(store.left_queue, self.db, cb_id, rest[1], now)
            log.info("callback %d: placeholder left the queue (%s) -> %s", cb_id, rest[1],
                     state)
        else:
            log.error("callback AGI: unknown step %r", step)

    async def offer(self, channel: AgiChannel, queue: str) -> None:
        language = channel.headers.get("agi_language", "en") or "en"
        dial_to = await route_back(channel)
        offer = cb.Offer(cb.dialable(channel.caller_number))
        turn: cb.Confirmed | cb.Ask | cb.GiveUp = cb.Ask(offer)
        while isinstance(turn, cb.Ask):
            keys = ""
            if turn.bad:
                keys = await self._say(channel, language, "bad_number", KEYS)
            if not keys and cb.valid_number(turn.offer.number):
                keys = await self._say(channel, language, "read_back", KEYS)
                keys = keys or await channel.say_digits(turn.offer.number, KEYS) or ""
            keys = keys or await self._say(channel, language, "confirm", KEYS)
            keys = await self._collect(channel, keys)
            turn = cb.confirm_step(turn.offer, keys)
        if isinstance(turn, cb.GiveUp):
            log.info("callback offer for %s not confirmed: back to the queue",
                     channel.uniqueid)
            await self._say(channel, language, "not_booked", "")
            return
        number = turn.number
        booked = await asyncio.to_thread(
            store.book, self.db, channel.uniqueid, queue, number,
            way_back(self.settings, dial_to[0], dial_to[1], number), language, self.clock())
        if booked.created:
            await channel.exec("QueueLog", f"{queue},{channel.uniqueid},NONE,CALLBACK,"
                                           f"{booked.id}")
        log.info("callback %d booked for %s in %s", booked.id, channel.uniqueid, queue)
        await channel.set_variable("CIVIC311_CALLBACK", str(booked.id))
        await self._say(channel, language, "booked", "")
        # the live stream may have written the original record after book() looked
        await asyncio.to_thread(store.mark_original, self.db, channel.uniqueid)


    async def _say(self, channel: AgiChannel, language: str, name: str, escape: str) -> str:
        sound = await self.prompts.sound(language, cb.text(language, name))
        return await channel.stream_file(sound, escape) or ""

    async def _collect(self, channel: AgiChannel, first: str) -> str:
        """Up to MAX_DIGITS keys ending with #; a lone 1 confirms at once."""
        digits = first
        if not digits:
            digits = await channel.wait_for_digit(ANSWER_TIMEOUT_MS) or ""
        if digits == cb.CALLBACK_KEY:
            more = await channel.wait_for_digit(1500)  # "1" alone, or a number starting 1?
            digits += more or ""
            if not more:
                return digits
        while digits and len(digits) < cb.MAX_DIGITS + 1 and not digits.endswith("#"):
            more = await channel.wait_for_digit(INTER_DIGIT_MS)
            if more is None:
                break
            digits += more
        return digits
