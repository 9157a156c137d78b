"""``civic311 report calls``: metrics (JSON) or one CSV row per queued call."""

from __future__ import annotations

import csv
import sys

import click

from acd import queries
from foundation.cli import Context, echo_json, parse_when, pass_ctx


@click.group()
def report() -> None:
    """Reports over call records."""


@report.command("calls")
@click.option("--from", "start", required=True, help="ISO 8601 start (inclusive).")
@click.option("--to", "end", required=True, help="ISO 8601 end (exclusive).")
@click.option("--queue", default=None, help="One queue (default: all queues).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of metrics.")
@click.option("--csv", "as_csv", is_flag=True, help="Print one CSV row per queued call.")
@pass_ctx
def calls(c: Context, start: str, end: str, queue: str | None, as_json: bool, as_csv: bool) -> None:
    """Offered, answered, abandoned, service level, ASA, AHT, occupancy, calls per agent.

    The JSON names the definitions its rates follow (``definitions``) and judges the goals
    (``goals``: met true/false) of the queue, or of the center for all queues."""
    if as_json == as_csv:
        raise click.UsageError("choose exactly one of --json or --csv")
    t0, t1 = parse_when(start), parse_when(end)
    if t1 <= t0:
        raise click.BadParameter("--to must be after --from")
    s = c.settings
    with c.db.session() as session:
        if as_json:
            echo_json(queries.report(session, t0, t1, queue, s))
            return
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(queries.CSV_HEADER)
        for record in queries.records(session, t0, t1, queue):
            out.writerow(queries.csv_row(record))


@report.command("rollup")
@click.option("--from", "start", required=True, help="ISO 8601 start (inclusive).")
@click.option("--to", "end", default=None, help="ISO 8601 end (default: now).")
@pass_ctx
def rollup_cmd(c: Context, start: str, end: str | None) -> None:
    """Recompute the 15-minute rollups (after importing history or a long outage)."""
    from datetime import timedelta

    from acd import rollup
    from foundation.db import utcnow

    t0 = parse_when(start)
    t1 = parse_when(end) if end else utcnow() + timedelta(minutes=rollup.BASE_MINUTES)
    if t1 <= t0:
        raise click.BadParameter("--to must be after --from")
    rows = rollup.rollup(c.db, t0, t1, c.settings.sl_thresholds_s, c.settings.short_abandon_s)
    click.echo(f"{rows} queue intervals rolled up from {t0.isoformat()} to {t1.isoformat()}")
