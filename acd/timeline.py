"""One call's whole life as a timeline (the page is ``acd.timeline_web``).

acd knows the queued call: entry, ring attempts, answer, transfer, end and wrap-up. What
other capabilities know of the same call (the IVR path, tickets, the recording and survey)
arrives as ``Facet`` functions handed in by the composition root, so acd imports none of
them; each facet sees the viewer's role and leaves out what that role may not see.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from acd.models import CallRecord


@dataclass(frozen=True)
class Step:
    """One moment in a call's life; ``href`` links to the page that tells more."""

    at: datetime | None
    what: str
    href: str | None = None


@dataclass(frozen=True)
class Facet:
    """What one capability knows of a call: a titled box and moments for the timeline."""

    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


FacetSource = Callable[[Session, CallRecord, str], "Facet | None"]  # session, call, role


def call_steps(call: CallRecord) -> list[Step]:
    """The queued call's own moments, from its record and ring attempts."""
    steps = [Step(call.entered_at, f"entered queue {call.queue}"
                  + (f" at position {call.position}" if call.position else ""))]
    for ring in call.rings:
        word = "answered" if ring.outcome == "connected" else "did not answer"
        steps.append(Step(ring.at, f"rang agent {ring.agent} for {ring.ring_ms / 1000:.0f} s; "
                                   f"{word}"))
    if call.answered_at is not None:
        steps.append(Step(call.answered_at, f"answered by agent {call.agent} after "
                                            f"{call.wait_s or 0:.0f} s waiting"))
    if call.hold_s:
        steps.append(Step(None, f"on hold {call.hold_s:.0f} s in all (part of the talk time)"))
    if call.transfer_target:
        steps.append(Step(call.ended_at, f"transferred to {call.transfer_target}"))
    if call.ended_at is not None:
        side = f", {call.hangup_side} hung up" if call.hangup_side not in (None, "transfer") \
            else ""
        steps.append(Step(call.ended_at, f"ended: {call.outcome}{side}"))
    if call.call_type or call.ticket_number:
        steps.append(Step(None, "wrap-up: " + ", ".join(filter(None, (
            call.call_type, call.ticket_number and f"ticket {call.ticket_number}")))))
    return steps


def timeline(call: CallRecord, facets: Sequence[Facet]) -> list[Step]:
    """Every moment in time order; moments without a time keep their place at the end."""
    steps = call_steps(call) + [s for f in facets for s in f.steps]
    timed = sorted((s for s in steps if s.at is not None), key=lambda s: s.at)  # type: ignore
    return timed + [s for s in steps if s.at is None]
