"""The worker's Twilio dispatcher, every second while ``telephony_backend = "twilio"``:
carry out the agents' commands (log-in, pause, transfer... the rows the web queues for the
Asterisk daemon too; transfers in ``transfers``, attended ones in ``conference``), end
expired wrap-ups, offer each waiting caller to a free agent, send the REST outbox (the
dequeues, the redirects, the conference requests) with backoff, and publish the live board
(wallboard, console).

Safe when it runs twice at once (two workers, an overrun): a command, an offer and an
outbox row change state only from the one they expect (``queries`` conditional updates,
``foundation.claims``), so a second run finds them taken. A dequeue that keeps failing
releases its offer: the caller never left Twilio's queue and waits on at their place.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from functools import partial

import requests
from sqlalchemy import update
from sqlalchemy.orm import Session

from acd import live_store
from acd.live_store import TRANSFERS
from acd.models import AgentCommand
from acd.states import CommandKind
from acd.twilio_acd import conference, routing, transfers
from acd.twilio_acd import queries as q
from acd.twilio_acd.models import TwilioRequest
from foundation import claims, retry
from foundation.db import Database, utcnow
from foundation.jobs import Job
from foundation.settings import Settings
from foundation.twilio_rest import Rest

log = logging.getLogger(__name__)

BACKOFF = retry.Backoff(base_s=1.0, cap_s=30.0)
MAX_ATTEMPTS = 5  # then the offer is released (the caller is still in Twilio's queue)
EVERY_S = 1


class Dispatcher:
    def __init__(self, settings: Settings, db: Database, rest: Rest | None = None) -> None:
        self.settings, self.db = settings, db
        self.rest = rest or Rest.from_settings(settings)
        self.base = (settings.public_base_url or "").rstrip("/")

    def run(self, now: datetime | None = None) -> int:
        """One pass; returns how many offers it made."""
        now = now or utcnow()
        self.commands(now)
        with self.db.session() as s:
            q.end_wrapups(s, now)
            for uid in q.release_stale(s, now):
                log.warning("no word from Twilio on the offer of %s: released", uid)
        made = self.dispatch(now)
        self.send(now)
        with self.db.session() as s:
            q.publish_board(s, self.settings.queue_names())
        return made

    def commands(self, now: datetime) -> None:
        with self.db.session() as s:
            pending = live_store.pending_commands(s)
        for c in pending:
            with self.db.session() as s:  # taken by this run only (a second run skips it)
                took = s.execute(update(AgentCommand).where(AgentCommand.id == c.id,
                                                            AgentCommand.status == "pending")
                                 .values(status="running"))
            if not took.rowcount:  # type: ignore[attr-defined]
                continue
            try:
                with self.db.session() as s:
                    if c.action == CommandKind.ATTENDED_TRANSFER:  # a consult (a room)
                        detail = conference.consult(s, c.agent, c.target or "",
                                                    self._caller_id(s, c.agent), self.base, now)
                    elif c.action in TRANSFERS:
                        detail, _ = transfers.request(s, c.agent, c.action, c.target or "",
                                                      self.base, now, self._wrapup_s(s, c.agent))
                    else:
                        detail = q.carry_out(s, c.action, c.agent, c.queue, c.reason,
                                             self.settings.queue_names(), now)
                ok = True
            except live_store.CommandError as exc:
                ok, detail = False, str(exc)
            with self.db.session() as s:
                live_store.finish_command(s, c.id, ok, detail)
            log.info("agent command %d %s %s: %s", c.id, c.action, c.agent, detail)

    def _caller_id(self, s: Session, agent: str) -> str:
        """The From of a consult's call: the city's number, else the caller's."""
        e = q.connected_call(s, agent)
        return self.settings.twilio_from_number or (e.caller_number if e else "") or ""

    def _wrapup_s(self, s: Session, agent: str) -> int:
        """The wrap-up of the queue of ``agent``'s current call."""
        e = q.connected_call(s, agent)
        queue = e.queue if e is not None else ""
        return routing.wrapup_s(self.settings, queue)

    def dispatch(self, now: datetime) -> int:
        with self.db.session() as s:
            pairs = routing.assign(q.waiting(s), q.free_agents(s))
        made = 0
        for entry_id, agent in pairs:
            with self.db.session() as s:
                if q.offer(s, entry_id, agent, now, f"{self.base}/twilio/acd/offer/{entry_id}",
                           now):
                    made += 1
        return made

    def send(self, now: datetime) -> int:
        if self.rest is None:
            return 0
        ids = claims.claim(self.db, TwilioRequest, now, 20)
        return claims.each(self.db, TwilioRequest, ids, partial(self._send_one, now=now), now,
                           MAX_ATTEMPTS)

    def _send_one(self, row_id: int, now: datetime) -> int:
        assert self.rest is not None
        with self.db.session() as s:
            row = s.get(TwilioRequest, row_id)
            if row is None or row.status != "pending":
                return 0
            path, form, entry_id, offer_no = row.path, json.loads(row.form), row.entry_id, \
                row.offer
            call = (partial(self.rest.delete, path) if row.method == "DELETE"
                    else partial(self.rest.post, path, form))
            live = entry_id is None or q.current_offer(s, entry_id, offer_no) is not None
            if not live:  # the offer ended meanwhile (the caller hung up): never sent
                row.status, row.done_at, row.locked_until = "dropped", now, None
                return 0
        outcome = retry.attempt(call,
                                (requests.RequestException, ValueError), retry.as_text)
        with self.db.session() as s:
            row = s.get(TwilioRequest, row_id)
            assert row is not None
            if outcome.ok:
                row.status, row.done_at, row.locked_until = "done", now, None
                return 1
            claims.settle(row, outcome.error or "", now, MAX_ATTEMPTS,
                          permanent=outcome.permanent, backoff=BACKOFF)
            log.warning("Twilio %s %s: %s (attempt %d%s)", row.kind, path, outcome.error,
                        row.attempts, ", given up" if row.status == "failed" else "")
            if row.status == "failed" and row.kind == "room":  # the agent's leg is gone
                conference.move_failed(s, path.removeprefix("Calls/").removesuffix(".json"),
                                       now)
            if row.status == "failed" and entry_id is not None:
                e = q.current_offer(s, entry_id, offer_no)
                if e is not None:  # the caller is still in Twilio's queue: offer again
                    q.release(s, e, now, rang=False)
        return 0


def jobs(settings: Settings, db: Database) -> list[Job]:
    if settings.telephony_backend != "twilio":
        return []
    dispatcher = Dispatcher(settings, db)
    return [Job("acd.twilio_dispatch", dispatcher.run, seconds=EVERY_S)]
