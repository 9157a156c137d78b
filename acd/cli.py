"""``civic311 report calls``: metrics (JSON) or one CSV row per queued call; and
``civic311 calls import``: an existing Asterisk's queue_log as call records."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

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
    """Recompute the 15-minute rollups of calls and of agent time (after importing history,
    a long outage, or the upgrade that added agent time rollups)."""
    from datetime import timedelta

    from acd import rollup
    from foundation.db import utcnow

    t0 = parse_when(start)
    t1 = parse_when(end) if end else utcnow() + timedelta(minutes=rollup.BASE_MINUTES)
    if t1 <= t0:
        raise click.BadParameter("--to must be after --from")
    rows = rollup.rollup(c.db, t0, t1, c.settings.sl_thresholds_s, c.settings.short_abandon_s,
                         c.settings.timezone)
    click.echo(f"{rows} queue intervals rolled up from {t0.isoformat()} to {t1.isoformat()}")


@click.group("calls")
def calls_group() -> None:
    """Call records: bring in an existing Asterisk's history."""


@calls_group.command("import")
@click.option("--queue-log", "queue_log", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Asterisk's queue_log file (years of it are fine: it is streamed).")
@click.option("--cdr", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Asterisk's cdr_csv Master.csv: closes calls the log never ended.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@pass_ctx
def import_cmd(c: Context, queue_log: Path, cdr: Path | None, as_json: bool) -> None:
    """Load queue_log (and CDRs) into call records and rollups; importing again changes nothing."""
    from acd.log_import import import_history

    s = c.settings
    got = import_history(c.db, queue_log, cdr, s.sl_thresholds_s, s.short_abandon_s)
    if as_json:
        echo_json({"lines": got.lines, "created": got.created, "updated": got.updated,
                   "closed_from_cdr": got.closed_from_cdr, "intervals": got.intervals,
                   "first": got.first.isoformat() if got.first else None,
                   "last": got.last.isoformat() if got.last else None})
        return
    span = f" from {got.first:%Y-%m-%d} to {got.last:%Y-%m-%d}" if got.first and got.last else ""
    click.echo(f"{got.lines} lines{span}: {got.created} calls created, {got.updated} corrected, "
               f"{got.closed_from_cdr} closed from CDRs; {got.intervals} queue intervals rolled up")


@click.group("referral")
def referral_group() -> None:
    """The referral directory agents transfer callers to (911, 211, state agencies)."""


@referral_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON.")
@pass_ctx
def referral_list(c: Context, as_json: bool) -> None:
    """The admins' entries (agencies' public numbers come from the catalog beside them)."""
    from acd import referrals

    with c.db.session() as s:
        rows = [{"id": e.id, "name": e.name, "number": e.number, "note": e.note}
                for e in referrals.entries(s)]
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['id']}\t{r['name']}\t{r['number']}\t{r['note']}")


@referral_group.command("add")
@click.argument("name")
@click.argument("number")
@click.option("--note", default="", help="What the number is for.")
@pass_ctx
def referral_add(c: Context, name: str, number: str, note: str) -> None:
    """Add NAME at NUMBER (digits, optional leading +)."""
    from acd import referrals

    try:
        with c.db.session() as s:
            entry = referrals.add(s, name, number, note, "cli")
            click.echo(f"added {entry.id}: {entry.name} {entry.number}")
    except referrals.ReferralError as exc:
        raise click.ClickException(str(exc)) from None


@referral_group.command("remove")
@click.argument("entry_id", type=int)
@pass_ctx
def referral_remove(c: Context, entry_id: int) -> None:
    """Remove the entry ENTRY_ID (see ``list``)."""
    from acd import referrals

    with c.db.session() as s:
        if not referrals.remove(s, entry_id):
            raise click.ClickException(f"no referral entry {entry_id}")
    click.echo(f"removed {entry_id}")
