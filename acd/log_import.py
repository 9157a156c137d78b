"""``civic311 calls import``: an existing Asterisk's queue_log (years of it) as call records.

The file is streamed in chunks of lines, each applied by the same recorder and rules as the
daemon's reconciliation (``acd.reconcile.apply_log``: the log's own figures), so a city
moving to civic311 keeps its history with the meaning live calls have. Importing the same
file again changes nothing. The CDRs, when given, close the calls the log never ended, as
reconciliation does; the rollups of the span the file covers are then recomputed, a month
at a time, so reports and forecasts read the history at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from acd import rollup
from acd.cdr import channel_ends, close_ended
from acd.queue_log import parse_line
from acd.reconcile import apply_log
from foundation.db import Database, utcnow

CHUNK_LINES = 20_000
ROLLUP_WINDOW = timedelta(days=31)


@dataclass(frozen=True)
class Imported:
    lines: int
    created: int
    updated: int
    closed_from_cdr: int
    first: datetime | None  # the span of the log's lines
    last: datetime | None
    intervals: int  # rollup rows written


def _chunks(path: Path, size: int) -> Iterator[list[str]]:
    with path.open(encoding="utf-8", errors="replace") as fh:
        chunk: list[str] = []
        for line in fh:
            chunk.append(line)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def import_history(db: Database, queue_log: Path, cdr: Path | None,
                   thresholds_s: Sequence[int], short_abandon_s: float,
                   chunk_lines: int = CHUNK_LINES) -> Imported:
    """Apply every line of ``queue_log`` (then ``cdr``), then recompute the rollups."""
    if not queue_log.is_file():
        raise FileNotFoundError(f"no queue_log at {queue_log}")
    if cdr is not None and not cdr.is_file():
        raise FileNotFoundError(f"no CDR file at {cdr}")
    lines = created = updated = 0
    first = last = None
    for chunk in _chunks(queue_log, chunk_lines):
        lines += len(chunk)
        for line in chunk:
            parsed = parse_line(line)
            if parsed is not None:
                first = parsed[0] if first is None else min(first, parsed[0])
                last = parsed[0] if last is None else max(last, parsed[0])
        c, u = apply_log(db, chunk)
        created, updated = created + c, updated + u
    closed = 0
    if cdr is not None:
        for chunk in _chunks(cdr, chunk_lines):
            closed += len(close_ended(db, channel_ends(chunk), utcnow()))
    intervals = 0
    if first is not None and last is not None:
        start, end = first, last + timedelta(minutes=rollup.BASE_MINUTES)
        while start < end:
            stop = min(start + ROLLUP_WINDOW, end)
            intervals += rollup.rollup(db, start, stop, thresholds_s, short_abandon_s)
            start = stop
    return Imported(lines, created, updated, closed, first, last, intervals)
