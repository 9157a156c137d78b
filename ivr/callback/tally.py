"""Callbacks requested vs completed over a range, for the call report (``acd.range_web``
gets ``tally`` from the composition root: acd sits below ivr and cannot read this table).

A request counts in the period it was made in (``created_at``, the caller's confirming key
press), like a call counts in the period it entered a queue; what became of it is its state
now: ``completed`` (connected: the caller was called back and reached an agent),
``failed`` (every dial attempt failed, or the number was refused) or ``pending`` (still
requested, originating, waiting or calling). So requested = completed + failed + pending
in every period, and a period's pending turn into completed or failed as callbacks finish.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.callback.models import CallbackRequest
from ivr.callback.rules import OPEN_STATES, CallbackState

K = TypeVar("K", bound=Hashable)
COUNTS = ("requested", "completed", "failed", "pending")
OUTCOME: dict[str, str] = {CallbackState.CONNECTED: "completed", CallbackState.FAILED: "failed",
           **{s: "pending" for s in OPEN_STATES}}


def blank() -> dict[str, int]:
    return dict.fromkeys(COUNTS, 0)


def tally(session: Session, t0: datetime, t1: datetime, queue: str | None,
          period: Callable[[datetime], K]) -> dict[K, dict[str, dict[str, int]]]:
    """{period(created_at): {queue: {requested, completed, failed, pending}}} for the
    requests made in [t0, t1) (in ``queue`` only when given). One row per request is read:
    requests are a small share of the calls, and ``period`` is the city's calendar, which
    SQL cannot group by portably."""
    where = [CallbackRequest.created_at >= t0, CallbackRequest.created_at < t1]
    if queue:
        where.append(CallbackRequest.queue == queue)
    out: dict[K, dict[str, dict[str, int]]] = {}
    for q, state, at in session.execute(select(
            CallbackRequest.queue, CallbackRequest.state, CallbackRequest.created_at)
            .where(*where)):
        counts = out.setdefault(period(at), {}).setdefault(str(q), blank())
        counts["requested"] += 1
        counts[OUTCOME.get(str(state), "pending")] += 1
    return out

