"""The migrations build exactly the tables, columns and indexes the models declare, on
SQLite and PostgreSQL (an upgraded production database is what the code expects)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from center import schema  # noqa: F401
from foundation.db import Base, Database


def test_migrations_match_every_model(database: Database) -> None:
    with database.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diffs == []
