"""What the agent desktop's Transfer and Call out controls show: the targets a transfer may
go to, the lines and purposes of a call out, and the status of a transfer the desktop
queued (``?command=N``, for the page without JavaScript).

The controls post to the existing endpoints and nothing else (``acd.referral_web``:
``/agent/transfer`` and ``/api/v1/agents/<ext>/transfer``; ``acd.outbound.web``:
``/agent/outbound``), so the checks (CSRF, roles, unknown queue, the dial policy) are the
ones those pages apply; this module only reads.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from acd import referrals
from acd.models import AgentCommand
from acd.outbound.models import Purpose
from acd.referral_web import DESKTOP
from crm_bridge.public import agency_numbers
from foundation.settings import Settings
from foundation.web import id_value


def command_of(session: Session, ext: str | None, raw_id: str | None) -> dict[str, Any] | None:
    """The agent's own queued command ``raw_id`` (another agent's is not shown)."""
    cmd_id = id_value(raw_id)
    if not ext or cmd_id is None:
        return None
    cmd = session.get(AgentCommand, cmd_id)
    if cmd is None or cmd.agent != ext:
        return None
    return {"id": cmd.id, "status": cmd.status, "detail": cmd.detail}


def context(session: Session, settings: Settings, ext: str | None,
            args: Any) -> dict[str, Any]:
    """The template values of both controls."""
    return {
        "desktop_path": DESKTOP,
        "transfer": {
            "queues": settings.queue_names(),
            "agents": [a for a in settings.agent_extensions if a != ext],
            "directory": referrals.directory(session, agency_numbers),
            "command": command_of(session, ext, args.get("command")),
        },
        "outbound": {"trunk": settings.trunk is not None, "purposes": list(Purpose),
                     "queues": settings.queues},
    }
