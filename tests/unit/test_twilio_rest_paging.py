"""Twilio's list resources come 50 to a page unless asked; civic311 reads every page
(foundation.twilio_rest.Rest.listing against the simulator's paged lists)."""

from __future__ import annotations

import threading
from typing import Any, cast

from foundation.twilio_rest import Rest
from telephony.twilio_sim.rest import RestApp, serve

SID, TOKEN = "AC" + "1" * 32, "token"


class Waiting:
    """The part of the simulated account the list resources read: 120 callers in one queue."""

    account_sid, auth_token = SID, TOKEN

    def __init__(self, count: int) -> None:
        self.lock = threading.Lock()
        self.queues = {"citywide": "QU1"}
        self.members = {"QU1": [f"CA{i:032d}" for i in range(count)]}

    def queue_members(self, qsid: str) -> list[dict[str, object]] | None:
        return [{"call_sid": sid, "position": i + 1}
                for i, sid in enumerate(self.members[qsid])] if qsid in self.members else None


def test_every_page_of_a_list_is_read() -> None:
    app = RestApp(cast(Any, Waiting(120)))
    with serve(app) as base:
        rest = Rest(base, SID, (SID, TOKEN))
        first = rest.get("Queues/QU1/Members.json")
        assert first is not None and len(first["queue_members"]) == 50  # Twilio's default
        assert first["next_page_uri"]
        everyone = rest.listing("Queues/QU1/Members.json", "queue_members", page_size=50)
        assert [m["position"] for m in everyone] == list(range(1, 121))
        assert len(app.handled("members")) == 1 + 3  # 50 + 50 + 20
        assert rest.listing("Queues/QU1/Members.json", "queue_members") == everyone  # 1 page
        assert rest.listing("Queues/QU9/Members.json", "queue_members") == []  # no such queue
        assert [q["friendly_name"] for q in rest.listing("Queues.json", "queues")] == [
            "citywide"]
