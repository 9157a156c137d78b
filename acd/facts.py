"""What the queue metrics need of each call record, read as columns (no ORM objects): the
one query both the rollups and the live figures read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from acd.metrics import CallFacts
from acd.models import CALLBACK_PATH_PREFIX, CallRecord

# Queue metrics count a resident's call once: a callback's placeholder is left out (its
# original call was offered and ended as ``callback``); call listings still show it.
NOT_PLACEHOLDER = or_(CallRecord.ivr_path.is_(None),
                      ~CallRecord.ivr_path.startswith(CALLBACK_PATH_PREFIX, autoescape=True))

FACT_COLUMNS = (CallRecord.queue, CallRecord.entered_at, CallRecord.outcome, CallRecord.wait_s,
                CallRecord.talk_s, CallRecord.hold_s, CallRecord.acw_s, CallRecord.agent)


def call_facts(session: Session, start: datetime, end: datetime) -> Iterator[CallFacts]:
    """What the metrics need of every call that entered in [start, end): columns, no objects."""
    rows = session.execute(select(*FACT_COLUMNS).where(
        CallRecord.entered_at >= start, CallRecord.entered_at < end, NOT_PLACEHOLDER)
        .execution_options(yield_per=5000))
    for queue, entered, outcome, wait, talk, hold, acw, agent in rows:
        yield CallFacts(queue, entered, outcome or "", wait or 0.0, talk or 0.0, hold or 0.0,
                        acw or 0.0, agent)
