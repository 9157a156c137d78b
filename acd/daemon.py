"""The telephony daemon: AMI bridge + FastAGI server + call recorder, one asyncio loop.

Raw AMI events are queued by the bridge, normalized here once, and applied to the database
in batches by a single writer thread (ordering kept, the event loop never blocks on I/O).
After every (re)login the live state is snapshot (QueueStatus) and any gap is filled from
queue_log; the same reconciliation runs on a timer as a safety net. The live board (waiting
callers, agent states) is published to the database for the web's wallboard streams, and
agent commands asked for on the web (log-in, pause...) are carried out here through AMI.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, configure_mappers

from acd import events as ev
from acd import live_store, phone_reach
from acd.agent_actions import QUALIFY_S, Command, Consults, action_for, agent_channel
from acd.agents import Transition, WrapupEnded
from acd.command_loop import CommandLoop
from acd.live import LiveBoard
from acd.models import AgentCommand
from acd.normalizer import DISPATCH, AgentCalls, normalize
from acd.reconcile import reconcile
from acd.recorder import Recorder, close_cut_calls, open_uniqueids
from foundation.db import Database
from foundation.heartbeat import beat
from foundation.settings import Settings
from telephony.agi_metrics import AgiMetrics
from telephony.ami import AmiBridge, AmiError, flatten
from telephony.fastagi import FastAgiServer, Handler
from telephony.install import Install

log = logging.getLogger(__name__)

BATCH_MAX = 2000  # under a backlog bigger batches amortise each statement (bench_ingest)
RECONCILE_EVERY_S = 60.0
RECONCILE_RETRY_S = 2.0
HEARTBEAT_EVERY_S = 2.0
TICK_EVERY_S = 0.5
STOP_DRAIN_S = 10.0  # on SIGTERM, how long the queued events may take to be applied
SNAPSHOT_BEGIN = "CivicSnapshotBegin"  # our own marker in the event queue, never from AMI


class Daemon:
    def __init__(self, settings: Settings, db: Database, install: Install,
                 agi_routes: Mapping[str, Handler] | None = None) -> None:
        self.settings = settings
        self.db = db
        self.install = install
        self.recorder = Recorder(db, settings.node)
        self.consults = Consults()  # the desktop's attended transfers, by agent channel
        self.commands = CommandLoop(db, settings.node, settings.frontdoor_agents,
                                    self._in_writer, self._carry_out, self._has_call)
        self.agent_calls = AgentCalls()  # each agent's caller, for an end that names none
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="civic311-db")
        wanted = set(DISPATCH) | ({phone_reach.EVENT} if settings.frontdoor_agents else set())
        self.bridge = AmiBridge(settings.ami_host, settings.ami_port, settings.ami_user,
                                settings.ami_secret or "", on_login=self.on_login,
                                wanted=wanted)
        self.phones = phone_reach.PhoneReach(self.bridge)
        self.agi_metrics = AgiMetrics(settings.node_name)
        self.agi = FastAgiServer(dict(agi_routes or {}), settings.agi_host, settings.agi_port,
                                 observe=self.agi_metrics.observe)
        # run on every tick while AMI is up (the composition root adds callback origination)
        self.tick_hooks: list[Callable[[], Awaitable[None]]] = []
        if settings.frontdoor_agents:
            self.tick_hooks.append(self.phones.run)
        self.asterisk_uptime_s: int | None = None
        self.asterisk_booted_at: float | None = None
        self.closed_for_boot: float | None = None  # on_login closed the calls cut before it
        self.lag_s = 0.0
        self.lags: deque[float] = deque(maxlen=5000)
        self.last_reconcile: datetime | None = None
        # since when AMI has been down (None while up): the worker's node-lost rule reads it
        # from the heartbeat, as a node whose Asterisk never comes back is lost too
        self.ami_down_since: datetime | None = None
        self.board = LiveBoard(settings.queue_names(),
                               {q.name: q.wrapup_s for q in settings.queues})
        self.published = -1
        self.received = 0  # raw events taken off the bridge's queue and applied
        self.spans_reset = False
        self.repair = asyncio.Event()  # set when the live path lost events
        self.dropped_seen = 0

    async def prepare(self) -> None:
        """Before logging in to AMI: the database path made ready, so the first events after a
        (re)start are applied at once rather than behind one-time set-up (ORM mappers, the
        first connection, the agent spans left open by the previous run). A database that
        is down is not fatal here: the first batch retries the reset."""
        try:
            await self._in_writer(self._prepare_database)
        except Exception:
            log.warning("database not ready at start; the first batch will retry", exc_info=True)

    def _prepare_database(self) -> None:
        configure_mappers()
        with self.db.session() as s:
            self._reset_spans(s)

    def _reset_spans(self, s: Session) -> None:
        # only this node's: another node's daemon keeps the spans of the agents it shares
        live_store.close_node_spans(s, self.settings.node, datetime.now(UTC))
        self.spans_reset = True

    async def _in_writer(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.writer, fn, *args)

    async def on_login(self) -> None:
        """After any (re)connection: snapshot what is live, then fill the gap from queue_log.

        When Asterisk itself restarted, calls it cut off leave no trace in queue_log: after
        reconciling, the ones still open from before the boot are closed as cut.
        """
        # the boot whose cut calls were closed last, not ``asterisk_booted_at``: the new
        # connection's FullyBooted event may have moved that already (the consumer runs on)
        previous_boot = self.closed_for_boot
        with contextlib.suppress(AmiError):
            status = await self.bridge.action("CoreStatus")
            self._note_uptime(status)
        with contextlib.suppress(AmiError):
            # panoramisk hands a list action's events to its reply, not to the event handler:
            # the snapshot goes into the event queue here, after whatever arrived before it.
            reply = await self.bridge.action("QueueStatus", wait_s=15)
            events = [m for m in (reply if isinstance(reply, list) else [reply])
                      if m is not None and m.get("Event")]
            snapshot = [{"Event": SNAPSHOT_BEGIN}, *(flatten(m) for m in events)]
            for fields in snapshot:
                if not self.bridge.events.put((time.monotonic(), fields)):
                    self.bridge.dropped += 1  # a full inbox: counted, and repaired as any drop
        await self.reconcile_now()
        booted = self.asterisk_booted_at
        if booted and (previous_boot is None or abs(booted - previous_boot) > 2):
            boot = datetime.fromtimestamp(booted, UTC)
            try:
                cut = await self._in_writer(close_cut_calls, self.db, boot,
                                            self.settings.node)
                if cut:
                    log.warning("Asterisk booted at %s: %d calls it cut off closed", boot, cut)
                self.closed_for_boot = booted
            except Exception:
                log.exception("could not close the calls cut by the Asterisk restart")

    def _note_uptime(self, status: Any) -> None:
        date, clock = status.get("CoreStartupDate"), status.get("CoreStartupTime")
        if date and clock:
            started = datetime.fromisoformat(f"{date}T{clock}")
            local = started.astimezone()  # Asterisk reports its local wall clock
            self.asterisk_booted_at = local.timestamp()

    async def reconcile_now(self) -> bool:
        """False when it failed (the database down): ``periodic`` then tries again soon."""
        path = self.install.log_dir / "queue_log"
        try:
            await self._in_writer(reconcile, self.db, path,
                                  self.install.log_dir / "cdr-csv" / "Master.csv",
                                  self.settings.node)
            self.last_reconcile = datetime.now(UTC)
            return True
        except Exception:
            log.exception("reconciliation from %s failed; retrying in %.0f s", path,
                          RECONCILE_RETRY_S)
            return False

    async def consume(self) -> None:
        """Normalize raw events and apply them in ordered batches."""
        # Under a backlog the queued events outlive young collections and set off full ones;
        # what was allocated before the stream (modules, settings, engine) is never garbage,
        # so it is left out of every collection from here on (bench/bench_ingest.py).
        gc.freeze()
        inbox = self.bridge.events
        while True:
            items = await inbox.take(BATCH_MAX)
            oldest = items[0][0]
            domain: list[ev.DomainEvent] = []  # all of the batch's events, for the records
            since_marker = 0  # where the events the board has not seen yet begin
            markers = 0
            moves: list[Transition | WrapupEnded] = []
            for _, m in items:
                name = m.get("Event")
                if name == phone_reach.EVENT:
                    self.phones.seen(m)
                    continue
                if name == SNAPSHOT_BEGIN:
                    # the board takes what came before the snapshot, then starts over
                    moves.extend(self.board.apply(domain[since_marker:]))
                    since_marker = len(domain)
                    self.board.begin_snapshot()
                    markers += 1
                    continue
                d = normalize(m)
                if d is not None:
                    d = self.agent_calls.resolve(d)
                if d is None:
                    continue
                if isinstance(d, ev.AsteriskBooted):
                    self.asterisk_booted_at = time.time() - d.uptime_s
                elif isinstance(d, ev.CallTransferred) and not d.target:
                    d = replace(d, target=self.consults.take(m.get("SecondTransfererChannel", "")))
                domain.append(d)
            moves.extend(self.board.apply(domain[since_marker:]))
            try:
                await self._in_writer(self._persist, domain, moves, self._board_if_changed())
            except Exception:
                log.exception("could not apply %d events; reconciling from queue_log",
                              len(domain))
                self.repair.set()
            if self.bridge.dropped != self.dropped_seen:
                log.warning("%d AMI events dropped (queue full); reconciling from queue_log",
                            self.bridge.dropped - self.dropped_seen)
                self.dropped_seen = self.bridge.dropped
                self.repair.set()
            self.lag_s = time.monotonic() - oldest
            self.lags.append(self.lag_s)
            self.received += len(items) - markers

    def _persist(self, domain: list[ev.DomainEvent], moves: list[Transition | WrapupEnded],
                 board: tuple[int, dict[str, Any]] | None) -> None:
        """One writer-thread transaction: call records, agent spans, the board if it changed.

        ``board`` (version, document) is taken in the event loop, which owns the board.
        """
        with self.db.session() as s:
            self.recorder.apply_in(s, domain)
            if not self.spans_reset:
                self._reset_spans(s)
            live_store.record_moves(s, moves, self.settings.node)
            if board is not None:
                live_store.publish(s, board[1], self.settings.node)
        if board is not None:
            self.published = board[0]

    def _board_if_changed(self) -> tuple[int, dict[str, Any]] | None:
        version = self.board.version
        return None if version == self.published else (version, self.board.doc())

    async def ticker(self) -> None:
        """End expired wrap-ups, carry out the web's agent commands, run the tick hooks."""
        while True:
            await asyncio.sleep(TICK_EVERY_S)
            moves = self.board.tick(datetime.now(UTC))
            try:
                if moves:
                    await self._in_writer(self._persist, [], moves, self._board_if_changed())
                if self.bridge.connected.is_set():
                    await self.run_commands()
                    for hook in self.tick_hooks:
                        await hook()
            except Exception:
                log.exception("tick failed; retrying")

    async def run_commands(self) -> None:
        await self.commands.run_once()

    async def _carry_out(self, c: AgentCommand) -> str:
        targets = [c.queue] if c.queue else self.settings.queue_names()
        qualify_s = QUALIFY_S if self.settings.frontdoor_agents else 0
        return await action_for(c.action, self.bridge, self.consults, qualify_s).run(
            Command(c.agent, c.queue, targets, c.reason, c.target))

    async def _has_call(self, agent: str) -> bool:
        """Whether this node's Asterisk has ``agent`` on a call (its bridged channel)."""
        try:
            await agent_channel(self.bridge, agent)
        except AmiError:
            return False
        return True

    async def periodic(self) -> None:
        """Reconcile on a timer, and at once when the live path lost events (``repair``);
        after a failed pass (the database down), again every ``RECONCILE_RETRY_S`` until one
        succeeds, so what queue_log holds reaches the records as soon as it is back."""
        every = RECONCILE_EVERY_S
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.repair.wait(), every)
            self.repair.clear()
            every = RECONCILE_EVERY_S if await self.reconcile_now() else RECONCILE_RETRY_S

    async def heartbeat(self) -> None:
        while True:
            connected = self.bridge.connected.is_set()
            if connected:
                self.ami_down_since = None
            elif self.ami_down_since is None:
                self.ami_down_since = datetime.now(UTC)
            uptime = (int(time.time() - self.asterisk_booted_at)
                      if self.asterisk_booted_at and connected else None)
            down = self.ami_down_since
            detail = dict(ami_connected=connected, asterisk_uptime_s=uptime,
                          ami_down_since=down.isoformat(timespec="seconds") if down else None,
                          agi_active=self.agi.active, agi_served=self.agi.served,
                          events_applied=self.recorder.applied,
                          event_backlog=len(self.bridge.events),
                          bridge_lag_ms=round(self.lag_s * 1000, 1),
                          bridge_lag_p99_ms=self.lag_p99_ms(),
                          last_reconcile=self.last_reconcile)
            try:
                await self._in_writer(self._beat, connected, detail)
            except Exception:
                log.warning("heartbeat not written (database down?)", exc_info=True)
            await asyncio.sleep(HEARTBEAT_EVERY_S)

    def lag_p99_ms(self) -> float | None:
        """p99 of the time from an event's arrival to its write, over the recent batches."""
        if not self.lags:
            return None
        ordered = sorted(self.lags)
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1)

    def _beat(self, ok: bool, detail: dict[str, Any]) -> None:
        node = self.settings.node  # each node's daemon its own row: ``daemon@<node>``
        with self.db.session() as s:
            beat(s, live_store.daemon_component(node), ok, node=node, **detail)

    def serve_metrics(self) -> None:
        """The FastAGI latency exposition (``telephony.agi_metrics``), when a port is set; a
        port that cannot be bound is logged, never a reason to stop taking calls."""
        host, port = self.settings.daemon_metrics_host, self.settings.daemon_metrics_port
        if not port:
            return
        try:
            self.agi_metrics.serve(host, port)
            log.info("daemon metrics on http://%s:%d/metrics", host, port)
        except OSError as exc:
            log.error("daemon metrics not served on %s:%d: %s", host, port, exc)

    async def _drain_inbox(self, timeout_s: float) -> None:
        """Let ``consume`` take what is queued (its last batch then runs in the writer)."""
        for _ in range(int(timeout_s / 0.05)):
            if not self.bridge.events:
                return
            await asyncio.sleep(0.05)

    async def _final_reconcile(self) -> None:
        """On the way out: what Asterisk logged up to now reaches the records, so the calls
        it ended while stopping are complete without another start."""
        path = self.install.log_dir / "queue_log"
        try:
            done = await self._in_writer(reconcile, self.db, path,
                                         self.install.log_dir / "cdr-csv" / "Master.csv",
                                         self.settings.node)
            still_open = len(await self._in_writer(open_uniqueids, self.db,
                                                     self.settings.node))
        except Exception:
            log.exception("the last reconciliation from %s failed; the next start repairs it",
                          path)
            return
        log.info("stopping: queue_log reconciled (%d lines, %d records created, %d updated); "
                 "%d calls still open (still up in Asterisk)", done.lines, done.created,
                 done.updated, still_open)

    async def run(self, stop: asyncio.Event) -> None:
        await self.prepare()
        self.serve_metrics()
        with self.agi_metrics:
            await self._run(stop)

    async def _run(self, stop: asyncio.Event) -> None:
        async with self.agi, self.bridge:
            tasks = [asyncio.create_task(coro, name=name) for name, coro in (
                ("consume", self.consume()), ("periodic", self.periodic()),
                ("heartbeat", self.heartbeat()), ("ticker", self.ticker()))]
            log.info("daemon up: FastAGI on %s:%d, AMI %s:%d", self.settings.agi_host,
                     self.settings.agi_port, self.settings.ami_host, self.settings.ami_port)
            await stop.wait()
            await self._drain_inbox(STOP_DRAIN_S)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._final_reconcile()
        with contextlib.suppress(Exception):
            await self._in_writer(self._beat, False, {"stopped": True})
        self.writer.shutdown(wait=True)

