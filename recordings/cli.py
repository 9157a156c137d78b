"""``civic311 recordings``: run the recording jobs by hand and list the problems."""

from __future__ import annotations

import click

from foundation.cli import Context, echo_json, pass_ctx
from foundation.db import utcnow
from telephony.ami import AmiError


@click.group()
def recordings() -> None:
    """Call recordings: catalog, retention, policy push, missing and failed."""


@recordings.command("catalog")
@pass_ctx
def catalog_cmd(c: Context) -> None:
    """Catalog finished recordings now (the worker does it every 15 s)."""
    from recordings.catalog import catalog, paths_for

    with c.db.session() as s:
        counts = catalog(s, paths_for(c.settings), c.settings.queue_names(), utcnow())
    echo_json(dict(counts))


@recordings.command("retention")
@pass_ctx
def retention_cmd(c: Context) -> None:
    """Delete the recordings past their queue's retention now (the worker does it hourly)."""
    from recordings.retention import run_retention

    run = run_retention(c.db, c.settings.data_dir, c.settings.queue_names(), utcnow())
    echo_json({"deleted": run.deleted, "files_left": run.files_left})


@recordings.command("push-policy")
@pass_ctx
def push_cmd(c: Context) -> None:
    """Tell Asterisk each queue's recording policy now (the worker does it every minute)."""
    from recordings.asterisk_sync import push_to_asterisk

    try:
        keys = push_to_asterisk(c.settings, c.db)
    except (AmiError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    echo_json({"astdb_keys_written": keys})


@recordings.command("problems")
@pass_ctx
def problems_cmd(c: Context) -> None:
    """List the missing and failed recordings as JSON."""
    from sqlalchemy import select

    from recordings.models import PROBLEMS, Recording
    from recordings.queries import as_dict

    with c.db.session() as s:
        rows = s.scalars(select(Recording).where(Recording.status.in_(PROBLEMS))
                         .order_by(Recording.started_at))
        echo_json({"problems": [as_dict(r) for r in rows]})
