"""The Twilio ACD checked against Twilio's own resources: on the worker's start (after
civic311 was down, when Twilio's callbacks had nowhere to go) and every minute after (a
callback lost on the way), every caller the ACD still has open is looked up.

- The Call resource is terminal (completed, busy, failed, no-answer, canceled), or Twilio
  has no such call: the call ended, at its ``end_time``; it ends here as its lost status
  callback would have ended it (abandoned while waiting or ringing, talk up to the end when
  connected, the agent into wrap-up from then).
- The call is still a member of its Twilio queue: the caller is waiting. An offer civic311
  made and never heard of (``OFFER_GRACE_S``) is released, a ``<Leave>`` whose Enqueue
  action never came is undone (the next waitUrl decides again), the queue's SID is noted,
  so the dispatcher offers them again.
- Otherwise (in progress, out of the queue: an agent's device ringing or connected) nothing
  is decided here; the Dial action or the terminal status will come.

Who hung up a connected call that ended while civic311 was down is not in the Call
resource: the record says ``caller``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from acd import calls
from acd.twilio_acd import public
from acd.twilio_acd import queries as q
from foundation import retry
from foundation.db import Database, utcnow
from foundation.jobs import Job
from foundation.settings import Settings
from foundation.twilio_rest import Rest

log = logging.getLogger(__name__)

TERMINAL = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
EVERY_S = 60
OFFER_GRACE_S = 30  # an offer this old whose caller is still in Twilio's queue never went out


def ended_at(call: dict[str, Any] | None, now: datetime) -> datetime | None:
    """When a Call resource says the call ended (``now`` for a call Twilio does not know,
    or a terminal one without an end time); None while it is up."""
    if call is None:
        return now
    if str(call.get("status", "")) not in TERMINAL:
        return None
    try:
        end = parsedate_to_datetime(str(call.get("end_time") or ""))
    except (TypeError, ValueError):
        return now
    return min(end, now) if end.tzinfo is not None else now


class Reconciler:
    def __init__(self, settings: Settings, db: Database, rest: Rest | None = None) -> None:
        self.settings, self.db = settings, db
        self.rest = rest or Rest.from_settings(settings)

    def run(self, now: datetime | None = None) -> dict[str, int]:
        """One pass; how many callers it ended and put back in line."""
        now = now or utcnow()
        done = {"ended": 0, "in_line": 0}
        if self.rest is None:
            return done
        with self.db.session() as s:
            open_ = [(e.uniqueid, e.queue) for e in q.open_entries(s)]
        if not open_:
            return done
        try:
            members = self._members({queue for _, queue in open_})
        except (requests.RequestException, ValueError) as exc:
            log.warning("Twilio's queues could not be read: %s", retry.as_text(exc))
            return done
        wrapups = {d.name: d.wrapup_s for d in self.settings.queues}
        for uid, _ in open_:
            try:
                call = self.rest.get(f"Calls/{uid}.json")
            except (requests.RequestException, ValueError) as exc:
                log.warning("Twilio's call %s could not be read: %s", uid, retry.as_text(exc))
                continue
            end = ended_at(call, now)
            with self.db.session() as s:
                if end is not None:
                    public.caller_ended(s, uid, end, wrapups)
                    calls.call_ended(s, uid, end)
                    done["ended"] += 1
                elif uid in members and q.back_in_line(
                        s, uid, members[uid], now - timedelta(seconds=OFFER_GRACE_S), now):
                    done["in_line"] += 1
        if any(done.values()):
            log.info("reconciled with Twilio: %d calls ended while unheard of, %d callers "
                     "back in line", done["ended"], done["in_line"])
        return done

    def _members(self, queues: set[str]) -> dict[str, str]:
        """CallSid -> QueueSid of everyone in Twilio's queues of these names."""
        assert self.rest is not None
        out: dict[str, str] = {}
        for qu in self.rest.listing("Queues.json", "queues"):
            if qu.get("friendly_name") not in queues:
                continue
            sid = str(qu.get("sid", ""))
            for m in self.rest.listing(f"Queues/{sid}/Members.json", "queue_members"):
                out[str(m.get("call_sid", ""))] = sid
        return out


def jobs(settings: Settings, db: Database) -> list[Job]:
    if settings.telephony_backend != "twilio":
        return []
    return [Job("acd.twilio_reconcile", Reconciler(settings, db).run, seconds=EVERY_S,
                kwargs={"next_run_time": utcnow()})]  # first on the worker's start
