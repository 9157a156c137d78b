"""The agent an attended transfer on Twilio consults (``conference``) is busy while consulted,
so the dispatcher never offers them a queued caller meanwhile.

On Asterisk app_queue passes over a member whose phone is in use (``ringinuse = no``); on
Twilio civic311 is the ACD and nothing but its own rows says a device is taken. So the
consulted agent's row (``TwilioAgent.consult_entry``) is claimed when the consult is
asked, before their device rings, and only from free (no offer ringing, no call, not
consulted already: a busy agent is refused, their device never rings twice). They are
ringing until their leg joins the room, then on the call (``on_call``: the caller's
uniqueid); completed, the transfer leaves them with the caller, still on it. They are free
again when their leg leaves the room or its call ends (hung up, removed, unanswered or
rejected: Twilio's ``no-answer``, ``busy``, ``failed``, ``canceled``), or the room ends.

An unanswered consult is not a ring-no-answer of a queued caller (the dispatcher's rule
passes an agent over for the caller who rang them): no caller rang them, so they are simply
free. The call's record stays the consulting agent's, transferred ``attended`` to
``agent-<ext>`` as Asterisk records an Atxfer; the talk after it is not a queued call of
the consulted agent, so no wrap-up follows it (app_queue gives none either).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from acd import live_store
from acd import transfer as names
from acd.twilio_acd import queries as q
from acd.twilio_acd.models import TwilioAgent, TwilioEntry


def agent_of(target: str) -> str | None:
    """The extension of a consult's target that is an agent (``agent-<ext>``), else None."""
    if names.kind_of(target) is not names.TargetKind.AGENT:
        return None
    return target.removeprefix("agent-")


def claim(s: Session, e: TwilioEntry, target: str, now: datetime) -> None:
    """Take the consulted agent for ``e``'s consult; CommandError when they are busy."""
    agent = agent_of(target)
    if agent is None:
        return
    if agent == e.agent:
        raise live_store.CommandError("an agent cannot consult themselves")
    row = q.agent_row(s, agent)
    took = s.execute(update(TwilioAgent).where(TwilioAgent.agent == agent,
                                               TwilioAgent.offer_entry.is_(None),
                                               TwilioAgent.on_call.is_(None),
                                               TwilioAgent.consult_entry.is_(None))
                     .values(consult_entry=e.id))
    if not took.rowcount:  # type: ignore[attr-defined]
        raise live_store.CommandError(f"agent {agent} is busy: their phone is taken")
    s.expire(row)
    q.settle(s, row, now)


def answered(s: Session, e: TwilioEntry, now: datetime) -> None:
    """The consulted agent's leg joined the room: they are on the call."""
    for row in _consulted(s, e):
        row.on_call = e.uniqueid
        q.settle(s, row, now)


def free(s: Session, e: TwilioEntry, now: datetime) -> None:
    """The consulted agent left (or was never reached): free again (a repeat: nothing)."""
    for row in _consulted(s, e):
        row.consult_entry = None
        if row.on_call == e.uniqueid:
            row.on_call = None
        q.settle(s, row, now)


def _consulted(s: Session, e: TwilioEntry) -> list[TwilioAgent]:
    return list(s.scalars(select(TwilioAgent).where(TwilioAgent.consult_entry == e.id)))
