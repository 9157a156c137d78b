"""What every capability's command group shares: the CLI context and small helpers.

The root command (``center/cli.py``) loads the settings once and hands them down in a
``Context``; capability commands take it with ``@pass_ctx``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from foundation.db import Database
from foundation.settings import Settings
from foundation.timeparse import parse_instant


class Context:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._db: Database | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.settings.db_url)
        return self._db


pass_ctx = click.make_pass_decorator(Context)


def parse_when(value: str) -> datetime:
    """ISO 8601 from the command line (``foundation.timeparse``: no offset means UTC)."""
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=None, sort_keys=True, default=str))
