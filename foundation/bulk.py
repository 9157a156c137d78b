"""Batch reads and writes that stay fast at full AMI speed, on PostgreSQL and SQLite.

A batch of N rows as a multi-row ``VALUES`` (or ``IN``) list makes a new statement text for
every N: psycopg splits each such text in Python and PostgreSQL plans it again, which cost
more than the writes themselves. On PostgreSQL an insert batch is therefore one JSON
parameter expanded by ``json_populate_recordset`` (``orjson``, datetimes included; one array per
column with ``unnest`` measured 15 % slower, its array dumping is pure Python) and a lookup
one array (``= ANY``): the text never changes, so it is parsed and planned once. SQLite has
neither cost and keeps SQLAlchemy's own statements.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Connection, Row, Table, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import TextualSelect

CHUNK = 500  # SQLite: at most this many values in one IN list


def _array_type(table: Table, column: str) -> str:
    sql_type: str = table.c[column].type.compile(dialect=postgresql.dialect())  # type: ignore[no-untyped-call]
    return f"{sql_type}[]"


@lru_cache(maxsize=64)
def _pg_insert(table: Table, fields: tuple[str, ...], upsert_on: tuple[str, ...],
               returning: tuple[str, ...]) -> TextClause:
    cols = ", ".join(fields)
    sql = (f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM "
           f"json_populate_recordset(NULL::{table.name}, CAST(:rows AS json))")
    if upsert_on:
        sets = ", ".join(f"{f} = EXCLUDED.{f}" for f in fields if f not in upsert_on)
        sql += f" ON CONFLICT ({', '.join(upsert_on)}) DO UPDATE SET {sets}"
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    return text(sql)


def insert_rows(conn: Connection, table: Table, fields: Sequence[str],
                rows: Sequence[Mapping[str, Any]], upsert_on: str | Sequence[str] | None = None,
                returning: Sequence[str] = ()) -> list[Any]:
    """Insert ``rows`` (or update them where ``upsert_on``, a unique column or columns,
    conflicts) in one statement.

    Returns the ``returning`` columns of every row written, in no particular order.
    """
    if not rows:
        return []
    fields, returning = tuple(fields), tuple(returning)
    keys = (upsert_on,) if isinstance(upsert_on, str) else tuple(upsert_on or ())
    values = [{f: r[f] for f in fields} for r in rows]
    if conn.dialect.name == "postgresql":
        stmt = _pg_insert(table, fields, keys, returning)
        result = conn.execute(stmt, {"rows": orjson.dumps(values).decode()})
        return list(result) if returning else []
    ins = sqlite.insert(table) if conn.dialect.name == "sqlite" else insert(table)
    if keys:
        ins = ins.on_conflict_do_update(  # type: ignore[attr-defined]
            index_elements=[table.c[k] for k in keys],
            set_={f: ins.excluded[f] for f in fields if f not in keys})  # type: ignore[attr-defined]
    if returning:
        # RETURNING makes SQLAlchemy send multi-row VALUES instead of one INSERT per row
        return list(conn.execute(ins.returning(*(table.c[c] for c in returning)), values))
    conn.execute(ins, values)
    return []


def rows_where_in(conn: Connection, table: Table, columns: Sequence[str], key: str,
                  values: Iterable[Any]) -> list[Row[Any]]:
    """The ``columns`` of every row whose ``key`` is one of ``values``."""
    wanted = list(values)
    if not wanted:
        return []
    cols = [table.c[c] for c in columns]
    if conn.dialect.name == "postgresql":
        stmt = _pg_any(table, tuple(columns), key)
        return list(conn.execute(stmt, {"wanted": wanted}))
    found: list[Row[Any]] = []
    for i in range(0, len(wanted), CHUNK):
        found.extend(conn.execute(select(*cols).where(table.c[key].in_(wanted[i:i + CHUNK]))))
    return found


@lru_cache(maxsize=64)
def _pg_any(table: Table, columns: tuple[str, ...], key: str) -> TextualSelect:
    return text(f"SELECT {', '.join(columns)} FROM {table.name} "
                f"WHERE {key} = ANY(CAST(:wanted AS {_array_type(table, key)}))").columns(
        *(table.c[c] for c in columns))  # typed: results pass through the column types
