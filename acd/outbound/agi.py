"""The outbound route of the FastAGI server: ``AGI(agi://.../outbound,<step>,...)``, called
from extensions.conf ``[civic311-outbound-dial]`` on the agent's channel.

- ``start,<kind>,<dialled>,<to carrier>``: the number passed the dial policy's patterns;
  write (or, for the desktop's call, complete) the record; sets OUT_ID and OUT_QUEUE (the
  line whose recording policy applies). Left empty on any failure: the dialplan then
  refuses the call rather than place one nobody records.
- ``result,<id>,<DIALSTATUS>,<ANSWEREDTIME>``: the call ended (on a dead channel).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from acd.outbound import queries
from foundation.db import Database
from foundation.settings import Settings
from telephony.fastagi import AgiChannel, AgiError
from telephony.phones import WEBRTC_SUFFIX
from telephony.trunk import config as trunk_config
from telephony.trunk.dial_policy import NumberKind

log = logging.getLogger(__name__)
KINDS = {str(k) for k in NumberKind}


def utcnow() -> datetime:
    return datetime.now(UTC)


class OutboundAgi:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.clock = utcnow

    async def __call__(self, channel: AgiChannel) -> None:
        args = [channel.headers.get(f"agi_arg_{i}", "") for i in range(1, 5)]
        if args[0] == "start":
            await self.start(channel, *args[1:4])
        elif args[0] == "result":
            await self.result(args[1], args[2], args[3])

    async def start(self, channel: AgiChannel, kind: str, dialled: str, to: str) -> None:
        if kind not in KINDS or not dialled.isdigit():
            log.warning("outbound start with kind %r: refused", kind)
            return
        values = []
        for name in ("OUT_ID", "CHANNEL(endpoint)"):
            value = None
            with contextlib.suppress(AgiError):
                value = await channel.get_full_variable(f"${{{name}}}")
            values.append(value or "")
        call_id = int(values[0]) if values[0].isdigit() else None
        endpoint = values[1]
        # agentEXT (the desk phone) or agentEXT-webrtc (the browser phone)
        ext = endpoint.removeprefix("agent").removesuffix(WEBRTC_SUFFIX)
        agent = ext if endpoint.startswith("agent") and ext.isdigit() else None
        default_queue = self.settings.queues[0].name
        trunk = trunk_config.view(self.settings)  # the dialplan sends its caller_id next

        def write() -> tuple[int, str]:
            with self.db.session() as s:
                call = queries.start(s, call_id, uniqueid=channel.uniqueid, agent=agent,
                                     number=dialled, to_carrier=to, kind=kind,
                                     default_queue=default_queue, now=self.clock(),
                                     caller_id=trunk.caller_id if trunk else None)
                s.commit()
                return call.id, call.queue or default_queue

        record_id, queue = await asyncio.to_thread(write)
        log.info("outbound call %d (%s) from agent %s", record_id, kind, agent or "?")
        await channel.set_variable("OUT_QUEUE", queue)
        await channel.set_variable("OUT_ID", str(record_id))

    def _finish(self, call_id: int, status: str, answered_s: float | None) -> None:
        with self.db.session() as s:
            queries.finish(s, call_id, status, answered_s, self.clock())
            s.commit()

    async def result(self, call_id: str, status: str, answered: str) -> None:
        if not call_id.isdigit():
            return
        try:
            answered_s = float(answered) if answered else None
        except ValueError:
            answered_s = None
        await asyncio.to_thread(self._finish, int(call_id), status.strip().upper(), answered_s)
