"""panoramisk wiring only: log in, keep the connection honest, queue raw events.

Defences against panoramisk 1.4 (regression tests in tests/unit/acd/test_bridge.py):
- single-reply actions misread as lists (``QueueAdd``...) can wait forever: every action is
  sent with ``as_list=False`` unless it is known to answer with a list, and under a timeout;
- ``Originate`` without ``Async`` raises inside the reader and drops the connection: we
  always send ``Async: true`` and wait for the ``OriginateResponse`` event ourselves;
- ping replies are never checked, so a dead connection goes unnoticed: a watchdog pings
  with a timeout and forces a reconnect when the reply does not come;
- actions unanswered at a disconnect are re-sent after the reconnect (a second Originate!):
  every action is made "forgetable";
- coroutine callbacks are started without a kept reference: our only callback is
  synchronous and puts the event in the ``Inbox``; the consumer task is owned.

Events are queued as plain dicts (``flatten``), never as panoramisk messages: a message is
some twenty-five objects for the garbage collector, and with thousands waiting in the queue
the collector's passes doubled the cost of parsing (bench/bench_ingest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from panoramisk import Manager

log = logging.getLogger(__name__)

LIST_ACTIONS = {"queuestatus", "queuesummary", "coreshowchannels", "status"}
ACTION_TIMEOUT_S = 5.0


class AmiError(RuntimeError):
    pass


class _Everything:
    """panoramisk re-sends unanswered actions after a reconnect unless they are "forgetable":
    an Originate or QueueAdd we already timed out must never run twice, so all are."""

    def __contains__(self, item: object) -> bool:
        return True


def clean(value: object) -> str:
    """A value safe to put in an AMI action: no CR/LF (header injection), no NULs."""
    return "".join(ch for ch in str(value) if ch not in "\r\n\x00")


def flatten(msg: Mapping[str, object]) -> dict[str, str]:
    """A panoramisk message as a plain dict; a repeated header (a list) keeps its first value.

    panoramisk's message is a case-insensitive mapping whose every read lower-cases the key;
    its ``_store`` (lower-cased key -> (key, value)) is copied directly when present.
    """
    store = getattr(msg, "_store", None)
    flat: dict[str, Any] = dict(store.values()) if isinstance(store, dict) else dict(msg.items())
    if set(map(type, flat.values())) - {str}:  # rare: a header Asterisk repeated (a list)
        return {k: v if type(v) is str else str(v[0] if isinstance(v, list) and v else v)
                for k, v in flat.items()}
    return flat


class Inbox:
    """The raw events received and not yet taken, in arrival order, bounded.

    A deque and a wake-up flag rather than an ``asyncio.Queue``: at full AMI speed the queue's
    per-item bookkeeping (put, wake a getter, get) cost as much as normalising the event.
    Items are (monotonic receive time, flat event dict).
    """

    def __init__(self, limit: int) -> None:
        self.items: deque[tuple[float, dict[str, str]]] = deque()
        self.limit = limit
        self._ready = asyncio.Event()

    def put(self, item: tuple[float, dict[str, str]]) -> bool:
        """False (and nothing kept) when full."""
        if len(self.items) >= self.limit:
            return False
        self.items.append(item)
        self._ready.set()
        return True

    async def take(self, most: int) -> list[tuple[float, dict[str, str]]]:
        """Wait for at least one item, then take up to ``most`` of them, oldest first."""
        while not self.items:
            self._ready.clear()
            await self._ready.wait()
        pop = self.items.popleft
        return [pop() for _ in range(min(most, len(self.items)))]

    def __len__(self) -> int:
        return len(self.items)


class AmiBridge:
    """One AMI connection. ``events`` receives (monotonic receive time, flat event dict)."""

    def __init__(self, host: str, port: int, username: str, secret: str,
                 on_login: Callable[[], Awaitable[None]] | None = None,
                 ping_interval_s: float = 5.0, queue_max: int = 200_000,
                 wanted: Collection[str] | None = None) -> None:
        self.manager = Manager(host=host, port=port, username=username, secret=secret,
                               events="on", ping_delay=3600, ping_interval=3600,
                               reconnect_timeout=1)
        self.manager.forgetable_actions = _Everything()
        self.manager.on_login = self._logged_in
        self.manager.on_disconnect = self._disconnected
        self.manager.register_event("*", self._on_event)
        self.events = Inbox(queue_max)
        self.connected = asyncio.Event()
        self.logins = 0
        self.dropped = 0
        self.wanted = frozenset(wanted) if wanted is not None else None  # None: every event
        self.skipped = 0  # events nobody here uses (never queued)
        self._on_login = on_login
        self._ping_interval = ping_interval_s
        self._tasks: set[asyncio.Task[Any]] = set()
        self._watchdog: asyncio.Task[None] | None = None
        self._origs: dict[str, asyncio.Future[Any]] = {}

    # ---- lifecycle ------------------------------------------------------------------------
    async def __aenter__(self) -> AmiBridge:
        self.manager.loop = asyncio.get_running_loop()
        self.manager.connect()
        self._watchdog = asyncio.create_task(self._watch(), name="ami-watchdog")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._watchdog:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        for task in list(self._tasks):
            task.cancel()
        self.manager.connection_lost = lambda exc: None  # no reconnect while closing
        self.manager.close()

    def _spawn(self, coro: Awaitable[Any], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _logged_in(self, manager: Manager) -> None:
        self.logins += 1
        self.connected.set()
        log.info("AMI logged in (%d)", self.logins)
        if self._on_login is not None:
            self._spawn(self._on_login(), "ami-on-login")

    def _disconnected(self, manager: Manager, exc: Exception | None) -> None:
        self.connected.clear()
        log.warning("AMI connection lost: %s", exc)

    def _on_event(self, manager: Manager, msg: Any) -> None:
        """Never blocks: Asterisk drops a client that reads slowly."""
        name = msg.get("Event", "")
        if self.wanted is not None and name not in self.wanted and name != "OriginateResponse":
            self.skipped += 1
            return
        fields = flatten(msg)
        if name == "OriginateResponse":
            fut = self._origs.pop(fields.get("ActionID", ""), None)
            if fut is not None and not fut.done():
                fut.set_result(fields)
        if not self.events.put((time.monotonic(), fields)):
            self.dropped += 1  # reconciliation from queue_log repairs what this loses

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._ping_interval)
            if not self.connected.is_set():
                continue
            try:
                await self.action("Ping", wait_s=self._ping_interval)
            except (AmiError, TimeoutError):
                log.warning("AMI ping unanswered: forcing a reconnect")
                self.connected.clear()
                protocol = self.manager.protocol
                if protocol is not None and protocol.transport is not None:
                    protocol.transport.abort()

    # ---- actions --------------------------------------------------------------------------
    async def action(self, name: str, wait_s: float = ACTION_TIMEOUT_S, **fields: Any) -> Any:
        """Send an action and wait (bounded) for its reply; raises AmiError on failure."""
        if not self.connected.is_set():
            raise AmiError(f"{name}: AMI is not connected")
        as_list = name.lower() in LIST_ACTIONS
        payload = {"Action": name, **{k: clean(v) for k, v in fields.items()}}
        future = self.manager.send_action(payload, as_list=as_list)
        try:
            reply = await asyncio.wait_for(future, wait_s)
        except TimeoutError as exc:
            raise AmiError(f"{name}: no reply within {wait_s:.0f} s") from exc
        first = reply[0] if isinstance(reply, list) else reply
        if first is not None and first.get("Response") == "Error":
            raise AmiError(f"{name}: {first.get('Message', 'error')}")
        return reply

    async def originate(self, wait_s: float = 30.0, **fields: Any) -> Any:
        """Originate asynchronously (``Async: true``); returns the OriginateResponse event."""
        action_id = f"civic311-orig-{time.monotonic_ns()}"
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._origs[action_id] = fut
        try:
            await self.action("Originate", ActionID=action_id, Async="true", **fields)
            return await asyncio.wait_for(fut, wait_s)
        except TimeoutError as exc:
            raise AmiError(f"Originate: no OriginateResponse within {wait_s:.0f} s") from exc
        finally:
            self._origs.pop(action_id, None)
