"""What the IVR knows of a queued call, for the call timeline (``acd.timeline``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.models import CallRecord
from acd.timeline import Facet, Step
from ivr.models import IvrCall


def ivr_facet(s: Session, call: CallRecord, role: str) -> Facet | None:
    """The caller's way through the menu (every role that sees the call sees this)."""
    menu = s.scalar(select(IvrCall).where(IvrCall.uniqueid == call.uniqueid))
    if menu is None:
        return None
    facts = [("Path", menu.ivr_path or call.ivr_path or "—"), ("Language", menu.language or "—"),
             ("Last option", menu.option or "—"), ("Status look-ups", str(menu.lookups)),
             ("Menu outcome", menu.outcome or "in the menu")]
    steps = [Step(menu.started_at, f"reached the menu ({menu.language or 'no language yet'})")]
    if menu.notice_id:
        steps.append(Step(menu.started_at, f"heard emergency notice #{menu.notice_id}"))
    if menu.ticket_number:
        steps.append(Step(None, f"looked up request {menu.ticket_number} by phone"))
    if menu.voicemail:
        facts.append(("Voicemail", f"{menu.voicemail_s or 0:.0f} s"))
        steps.append(Step(menu.ended_at, "left a voicemail"))
    return Facet("Menu", facts, steps)
