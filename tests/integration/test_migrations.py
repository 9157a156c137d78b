"""The migrations build exactly the tables, columns and indexes the models declare, on
SQLite and PostgreSQL (an upgraded production database is what the code expects)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from center.db import Base, Database, import_all_models


def test_migrations_match_every_model(database: Database) -> None:
    import_all_models()
    with database.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diffs == []
