"""Push each queue's recording policy into Asterisk's AstDB, where the dialplan reads it.

Keys (family ``civic311``): ``recording/<queue>`` = percent of answered calls to record
(0 none, 100 all), ``recbeep/<queue>`` = 1 for a periodic beep on the recording.
"""

from __future__ import annotations

from foundation.db import Database
from foundation.settings import Settings
from recordings import ami, policy_queries
from recordings.policy import RecordingPolicy
from telephony.ami import AmiBridge

FAMILY = "civic311"


def astdb_entries(policies: list[RecordingPolicy]) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in policies:
        out[f"recording/{p.queue}"] = str(p.record_pct)
        out[f"recbeep/{p.queue}"] = "1" if p.beep else "0"
    return out


async def push(bridge: AmiBridge, policies: list[RecordingPolicy]) -> int:
    """Write every queue's policy (idempotent); returns the number of keys written."""
    entries = astdb_entries(policies)
    for key, value in entries.items():
        await bridge.action("DBPut", Family=FAMILY, Key=key, Val=value)
    return len(entries)


def push_to_asterisk(settings: Settings, db: Database) -> int:
    """Load every queue's saved policy and push it over a short AMI session; keys written."""
    with db.session() as s:
        current = list(policy_queries.load(s, settings.queue_names()).values())
    return ami.run(settings, lambda b: push(b, current))
