"""The daemon's side of callbacks: originate a placeholder for every due request, and notice
placeholders that vanished (an Asterisk restart, an Originate that never ran).

A placeholder is ``Local/cb-<id>@civic311-callback-hold/n``: its second half waits in the
queue (the dialplan asks the ``hold`` AGI step for its place in line); when an agent answers
it, the first half runs ``civic311-callback-dial`` and calls the resident back. The Originate
stays pending inside Asterisk until then (``Async``): we wait only for its acceptance, and
everything after is reported by the dialplan through the AGI route. The database is the
queue of work, so a daemon restart loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from foundation.db import Database
from ivr.callback import queries as store
from ivr.callback import rules as cb
from ivr.callback.rules import CallbackState as Cs
from telephony.ami import AmiBridge, AmiError

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 15.0
SETTLE_S = 10.0  # a row changed this recently is left alone by the sweep
HOLD_CONTEXT = "civic311-callback-hold"
DIAL_CONTEXT = "civic311-callback-dial"
CALLER_ID = '"City 311" <311>'  # what the resident's phone shows on a callback


def placeholder(cb_id: int) -> str:
    return f"Local/cb-{cb_id}@{HOLD_CONTEXT}/n"


def first_half(channel: str) -> str:
    """The Local channel half that dials the resident (it outlives the queued half)."""
    return channel[:-2] + ";1" if channel.endswith(";2") else channel


class CallbackRunner:
    def __init__(self, bridge: AmiBridge, db: Database,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.bridge = bridge
        self.db = db
        self.clock = clock
        self.next_sweep: datetime | None = None
        self.originated = 0

    async def tick(self) -> None:
        """Originate what is due; sweep for lost placeholders now and then."""
        now = self.clock()
        if self.next_sweep is None or now >= self.next_sweep:
            self.next_sweep = now + timedelta(seconds=SWEEP_EVERY_S)
            await self.sweep(now)
        for row in await asyncio.to_thread(store.take_due, self.db, now):
            await self.originate(row.id, row.queue)

    async def originate(self, cb_id: int, queue: str) -> None:
        try:
            await self.bridge.action(
                "Originate", Channel=placeholder(cb_id), Context=DIAL_CONTEXT,
                Exten=f"cb-{cb_id}", Priority=1, CallerID=CALLER_ID,
                Timeout=cb.HOLD_LIMIT_S * 1000, Async="true")
            self.originated += 1
            log.info("callback %d: placeholder originated into %s", cb_id, queue)
        except AmiError as exc:  # the sweep re-sends it after the grace period
            log.warning("callback %d: Originate failed (%s); will retry", cb_id, exc)

    async def sweep(self, now: datetime) -> None:
        for row in await asyncio.to_thread(store.open_requests, self.db):
            if row.state == Cs.ORIGINATING:
                started = row.originated_at or row.updated_at
                if now - started > timedelta(seconds=cb.ORIGINATE_GRACE_S):
                    await asyncio.to_thread(store.requeue, self.db, row.id, Cs.ORIGINATING, now,
                                            "placeholder never joined")
                continue
            if now - row.updated_at < timedelta(seconds=SETTLE_S) or not row.placeholder_channel:
                continue
            if not await self.alive(first_half(row.placeholder_channel)):
                state = await asyncio.to_thread(store.requeue, self.db, row.id, row.state, now,
                                                "placeholder lost")
                log.warning("callback %d: placeholder %s lost while %s -> %s", row.id,
                            row.placeholder_channel, row.state, state)

    async def alive(self, channel: str) -> bool:
        """Whether Asterisk still has ``channel`` (unknown counts as alive)."""
        try:
            await self.bridge.action("Getvar", Channel=channel, Variable="CB_ID")
        except AmiError as exc:
            return "no such channel" not in str(exc).lower()
        return True
