"""Asterisk's CDRs (cdr_csv ``Master.csv``): the second source reconciliation reads.

queue_log says how a queued call ended. When it never says (an end Asterisk did not log, a
line lost with a full disk, a record whose end the live stream missed and the log rotated
away), the call's CDR still says that its channel is gone, and when. Reconciliation closes
such a record from it so that no call stays "live" on the wallboard and out of the figures
for ever; the log wins whenever it does hold the end (``reconcile.apply_logged``).

Column order is cdr_csv's with ``loguniqueid`` and ``loguserfield`` (asterisk_conf's
cdr.conf), times in UTC (``usegmtime``), whole seconds.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from acd.models import CallRecord
from acd.recorder import cut_off
from foundation.db import Database

log = logging.getLogger(__name__)

END, UNIQUEID = 11, 16  # columns of Master.csv
GRACE_S = 5  # queue_log writes an end before the CDR; give the log this long to say it first
CLOSED_FROM_CDR = "closed from CDR: queue_log holds no end"


def channel_ends(lines: Iterable[str]) -> dict[str, datetime]:
    """uniqueid -> when its channel ended (the latest of its CDRs: a bridged call may leave
    several). Rows that do not parse are skipped."""
    ends: dict[str, datetime] = {}
    for row in csv.reader(lines):
        if len(row) <= UNIQUEID:
            continue
        try:
            end = datetime.strptime(row[END], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            continue
        uid = row[UNIQUEID]
        if uid and (uid not in ends or end > ends[uid]):
            ends[uid] = end
    return ends


def close_ended(db: Database, ends: Mapping[str, datetime], now: datetime) -> list[str]:
    """Close the records still open whose channel ended more than ``GRACE_S`` ago.

    Answered ones end with their channel; the rest are ``dropped``: offered, and neither
    answered nor logged as abandoned; the rule of every call the system lost
    (``recorder.cut_off``), as for the calls an Asterisk restart cuts off. Returns their
    uniqueids.
    """
    due = [uid for uid, end in ends.items() if end <= now - timedelta(seconds=GRACE_S)]
    closed: list[str] = []
    with db.session() as s:
        for i in range(0, len(due), 500):
            for rec in s.scalars(select(CallRecord).where(
                    CallRecord.uniqueid.in_(due[i:i + 500]), CallRecord.outcome.is_(None))):
                # as for calls an Asterisk restart cut off: no party's end is known
                cut_off(rec, ends[rec.uniqueid], CLOSED_FROM_CDR)
                closed.append(rec.uniqueid)
    if closed:
        log.warning("%d calls had no end in queue_log; closed from their CDRs: %s",
                    len(closed), ", ".join(closed[:20]))
    return closed
