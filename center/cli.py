"""The ``civic311`` command line: one entry point, settings loaded once and passed down."""

from __future__ import annotations

import sys

import click

from acd.cli import calls_group, referral_group, report
from center import schema
from crm_bridge.cli import apikey, catalog, opendata
from foundation.cli import Context, pass_ctx
from foundation.settings import configure_logging, load_settings
from places.cli import gis
from recordings.cli import recordings
from telephony.cli import asterisk
from telephony.nodes_cli import frontdoor_group, node
from telephony.phones_cli import agent
from workforce.cli import wfm


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="TOML settings file.")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Data directory.")
@click.option("--database-url", help="SQLAlchemy URL (default: SQLite in the data directory).")
@click.option("--log-level", help="DEBUG, INFO, WARNING...")
@click.pass_context
def cli(ctx: click.Context, config_file: str | None, data_dir: str | None,
        database_url: str | None, log_level: str | None) -> None:
    """civic311: a 311 contact center on Asterisk."""
    settings = load_settings(config_file, data_dir=data_dir, database_url=database_url,
                             log_level=log_level)
    configure_logging(settings)
    ctx.obj = Context(settings)


@cli.command()
@click.option("--demo", is_flag=True, help="Also run simulated callers and agents (SIPp on "
              "Asterisk, the local Twilio simulator on twilio).")
@click.option("--backend", type=click.Choice(["asterisk", "twilio"]), default=None,
              help="Telephony backend (default: the telephony_backend setting).")
@pass_ctx
def up(c: Context, demo: bool, backend: str | None) -> None:
    """Start and supervise Asterisk, the telephony daemon, the web server and the worker
    (on twilio: the web server and the worker)."""
    from center.supervisor import run_all

    settings = c.settings
    backend = backend or settings.telephony_backend
    if demo:  # the simulated residents call from 127.0.0.1 without credentials
        settings = settings.model_copy(update={"resident_trust_local": True})
    if backend == "twilio":
        settings = settings.model_copy(update={"telephony_backend": "twilio"})
    sys.exit(run_all(settings, demo=demo, backend=backend))


@cli.command()
@click.option("--host", help="Listen address.")
@click.option("--port", type=int, help="Listen port.")
@pass_ctx
def web(c: Context, host: str | None, port: int | None) -> None:
    """Run the web server alone (gunicorn)."""
    from center.webserver import serve

    serve(c.settings, host or c.settings.web_host, port or c.settings.web_port)


@cli.command()
@pass_ctx
def daemon(c: Context) -> None:
    """Run the telephony daemon alone (AMI bridge + FastAGI server)."""
    from center.daemon import run_daemon

    run_daemon(c.settings)


@cli.command()
@pass_ctx
def worker(c: Context) -> None:
    """Run the scheduled-jobs worker alone (the only APScheduler process)."""
    from center.worker import run_worker

    run_worker(c.settings)


@cli.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@pass_ctx
def db_upgrade(c: Context) -> None:
    """Apply all migrations."""
    schema.upgrade(c.db)
    click.echo(f"database at {c.db.engine.url.render_as_string()} is up to date")


@cli.group()
def seed() -> None:
    """Sample data."""


@seed.command("demo")
@click.option("--history/--no-history", default=True, show_default=True,
              help="Also write months of past calls, tickets, QA and a forecast (once).")
@click.option("--months", type=click.FloatRange(0, 36, min_open=True), default=3.0,
              show_default=True, help="How many months of history.")
@click.option("--volume", type=click.FloatRange(0, 100_000), default=500.0, show_default=True,
              help="History: calls on an average weekday.")
@click.option("--tickets-per-day", type=click.FloatRange(0, 10_000), default=20.0,
              show_default=True, help="History: service requests a day.")
@click.option("--seed", "rng_seed", type=int, default=311, show_default=True,
              help="History: random seed (same seed, same past).")
@pass_ctx
def seed_demo(c: Context, history: bool, months: float, volume: float, tickets_per_day: float,
              rng_seed: int) -> None:
    """A sample city: agencies, queues, agents, service types, one user per role and (unless
    --no-history) months of history, each written once: running it again adds nothing."""
    from center.history import HistoryOptions, seed_history
    from center.seed import seed_demo as run_seed

    options = HistoryOptions(months, volume, tickets_per_day, rng_seed)
    schema.upgrade(c.db)
    for line in run_seed(c.settings, c.db):
        click.echo(line)
    if history:
        for line in seed_history(c.settings, c.db, options):
            click.echo(line)


@cli.group()
def user() -> None:
    """Users and roles."""


@user.command("create")
@click.argument("username")
@click.option("--role", required=True, help="agent|supervisor|qa|agency|manager|admin")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--full-name", default="")
@click.option("--agent-ext", default=None, help="Agent phone extension (agents).")
@click.option("--agency", default=None, help="Agency code (agency workers).")
@pass_ctx
def user_create(c: Context, username: str, role: str, password: str, full_name: str,
                agent_ext: str | None, agency: str | None) -> None:
    """Create a user who can log in to the web pages."""
    from foundation.users import UserError, create_user

    try:
        with c.db.session() as s:
            create_user(s, username, password, role, full_name=full_name,
                        agent_ext=agent_ext, agency=agency)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"user {username} ({role}) created")


@user.command("password")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@pass_ctx
def user_password(c: Context, username: str, password: str) -> None:
    """Give a user a new password; every session the user had is ended."""
    from foundation.users import UserError, set_password

    try:
        with c.db.session() as s:
            set_password(s, username, password)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"password of {username} changed; its sessions are ended")


@user.command("totp")
@click.argument("username")
@click.option("--remove", is_flag=True, help="Take the second factor away instead.")
@pass_ctx
def user_totp(c: Context, username: str, remove: bool) -> None:
    """Enrol a user in the TOTP second factor: prints, once, the otpauth:// URI to add to an
    authenticator app (a new secret replaces any earlier one). Ends the user's sessions."""
    from foundation.second_factor import new_secret, provisioning_uri
    from foundation.users import UserError, set_second_factor

    secret = None if remove else new_secret()
    try:
        with c.db.session() as s:
            set_second_factor(s, username, secret)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    if secret is None:
        click.echo(f"second factor of {username} removed")
    else:
        click.echo(provisioning_uri(secret, username, f"{c.settings.city_name} 311"))


@click.group()
def privacy() -> None:
    """Personal data past its retention (docs/security.md): erase now, read the audit."""


@privacy.command("erase")
@click.option("--at", "at", help="Judge ages as of this instant (ISO 8601; default now).")
@pass_ctx
def privacy_erase(c: Context, at: str | None) -> None:
    """Erase the personal data past its retention now (the worker does it hourly); prints
    per table how many rows were erased and which failed."""
    from center.worker import ERASURES
    from foundation.cli import echo_json, parse_when
    from foundation.db import utcnow

    now = parse_when(at) if at else utcnow()
    out = {}
    for erase in ERASURES:
        for table, run in erase(c.settings, c.db, now).items():
            out[table] = {"erased": run.erased, "failed": run.failed}
    echo_json(out)


@privacy.command("log")
@click.option("--limit", type=click.IntRange(1, 100_000), default=200, show_default=True)
@pass_ctx
def privacy_log(c: Context, limit: int) -> None:
    """The newest erasures (and failures to erase) as JSON lines."""
    from foundation.cli import echo_json
    from foundation.erasure import recent

    with c.db.session() as s:
        for e in recent(s, limit):
            echo_json({"at": e.at.isoformat(), "kind": e.kind, "table": e.subject_table,
                       "id": e.subject_id, "action": e.action, "fields": e.fields,
                       "detail": e.detail, "attempts": e.attempts})


@privacy.command("twilio")
@click.option("--all", "everything", is_flag=True, help="Also the deletions Twilio confirmed.")
@pass_ctx
def privacy_twilio(c: Context, everything: bool) -> None:
    """Twilio's copies queued for deletion and not confirmed yet (pending, failed) as JSON
    lines: what Twilio may still hold."""
    from sqlalchemy import select

    from foundation.cli import echo_json
    from foundation.twilio_deletions import DeletionState, TwilioDeletion

    q = select(TwilioDeletion).order_by(TwilioDeletion.id)
    if not everything:
        q = q.where(TwilioDeletion.status != DeletionState.DONE)
    with c.db.session() as s:
        for d in s.scalars(q):
            echo_json({"recording_sid": d.recording_sid, "kind": d.kind,
                       "table": d.subject_table, "id": d.subject_id, "status": d.status,
                       "reason": d.reason, "attempts": d.attempts, "last_error": d.last_error,
                       "next_attempt_at": d.next_attempt_at.isoformat(),
                       "deleted_at": d.deleted_at.isoformat() if d.deleted_at else None,
                       "answer": d.answer})


def _mount_capabilities() -> None:
    """Every capability's command group, named here explicitly (capabilities never import
    this module: it is the root)."""
    for group in (asterisk, node, frontdoor_group, agent, report, calls_group, referral_group,
                  wfm, apikey, catalog, opendata, recordings, gis, privacy):
        cli.add_command(group)


_mount_capabilities()


def main() -> None:
    cli(prog_name="civic311")
