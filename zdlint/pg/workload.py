"""What verify's writers and readers send: one INSERT, UPDATE and SELECT per table.

Seeded row `g` holds the seeder's values for `g` (see seed.py), so every statement takes
a row number as its only parameter: an INSERT makes row `g` (a number above the seeded
range), an UPDATE and a SELECT find row `g` through a single-column key (primary key or
unique index, so one index probe), or through a tuple id when there is no such key.
Foreign key columns of new rows point at a seeded row of the referenced table.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from zdlint.pg.seed import Column, table_columns, value_expression

_TABLE = """
SELECT c.oid::regclass::text, n.nspname, c.relname, c.relkind::text,
       greatest(pg_relation_size(c.oid) / current_setting('block_size')::int, 1)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = %s
"""

# The key column of a single-column primary key or unique index, primary key first.
_KEY = """
SELECT a.attname FROM pg_index i
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
WHERE i.indrelid = %s AND i.indnkeyatts = 1 AND i.indkey[0] > 0
  AND (i.indisprimary OR i.indisunique) AND i.indpred IS NULL AND i.indisvalid
ORDER BY i.indisprimary DESC, i.indexrelid LIMIT 1
"""

_FOREIGN_KEY_COLUMNS = """
SELECT a.attname FROM pg_constraint k
CROSS JOIN LATERAL unnest(k.conkey) AS u(attnum)
JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum
WHERE k.conrelid = %s AND k.contype = 'f'
"""

_INTEGER_TYPES = frozenset({"integer", "bigint", "smallint"})
_ROW = sql.SQL("(SELECT %s::int AS g) AS zdlint_row")


class WorkloadError(Exception):
    """No statement can be made for a table; the message says why."""


@dataclass(frozen=True)
class TableWorkload:
    """The statements one table receives; each takes a row number `g` as its parameter."""

    table: str
    insert: str | None  # None when a NOT NULL column has no value we can make
    update: str | None  # None when no column can be updated
    read: str


def build_workloads(
    conn: psycopg.Connection, tables: list[int], rows: int
) -> tuple[list[TableWorkload], list[str]]:
    """Statements for each table (OIDs), and why a table was left out of the load."""
    workloads: list[TableWorkload] = []
    problems: list[str] = []
    for oid in tables:
        try:
            workloads.append(table_workload(conn, oid, rows))
        except WorkloadError as exc:
            problems.append(str(exc))
    return workloads, problems


def table_workload(conn: psycopg.Connection, oid: int, rows: int) -> TableWorkload:
    row = conn.execute(_TABLE, (oid,)).fetchone()
    if row is None:
        raise WorkloadError(f"table with OID {oid} does not exist")
    name, schema, rel, kind, pages = row
    columns = table_columns(conn, schema, rel)
    foreign = {r[0] for r in conn.execute(_FOREIGN_KEY_COLUMNS, (oid,))}
    filled = _filled_columns(columns, foreign, rows)
    key_row = conn.execute(_KEY, (oid,)).fetchone()
    locate = _locator(columns, key_row[0] if key_row else None, kind, pages)
    if locate is None:
        raise WorkloadError(f"{name}: no single-column key to find a row by")
    table = sql.SQL(name)
    insert = None
    if filled is not None:
        insert = sql.SQL(
            "INSERT INTO {table} ({columns}) SELECT {values} FROM {row} ON CONFLICT DO NOTHING"
        ).format(
            table=table,
            columns=sql.SQL(", ").join(sql.Identifier(c) for c in filled),
            values=sql.SQL(", ").join(_expression(e) for e in filled.values()),
            row=_ROW,
        )
    target = _update_target(filled or {}, key_row[0] if key_row else None)
    update = None
    if target is not None:
        update = sql.SQL("UPDATE {table} SET {c} = {c} WHERE {where}").format(
            table=table, c=sql.Identifier(target), where=locate
        )
    if insert is None and update is None:
        raise WorkloadError(f"{name}: no column we can generate values for")
    read = sql.SQL("SELECT * FROM {table} WHERE {where}").format(table=table, where=locate)
    return TableWorkload(
        name,
        insert.as_string(conn) if insert is not None else None,
        update.as_string(conn) if update is not None else None,
        read.as_string(conn),
    )


def _filled_columns(columns: list[Column], foreign: set[str], rows: int) -> dict[str, str] | None:
    """Column → SQL value for row `g`, or None when a NOT NULL column cannot be filled."""
    filled: dict[str, str] = {}
    for column in columns:
        expression = None if column.generated_by_server else value_expression(column)
        if expression is None:
            if column.nullable or column.generated_by_server:
                continue
            return None
        if column.name in foreign:
            # A new row references one of the seeded rows of the referenced table.
            expression = f"(SELECT {expression} FROM (SELECT (g - 1) % {rows} + 1 AS g) AS r)"
        filled[column.name] = expression
    return filled


def _locator(
    columns: list[Column], key: str | None, kind: str, pages: int
) -> sql.Composable | None:
    """A WHERE condition finding row `g` (the statement's parameter)."""
    column = next((c for c in columns if c.name == key), None)
    if column is not None:
        expression = None if column.generated_by_server else value_expression(column)
        if expression is not None:
            return sql.SQL("{key} = (SELECT {value} FROM {row})").format(
                key=sql.Identifier(column.name), value=_expression(expression), row=_ROW
            )
        if column.data_type in _INTEGER_TYPES:  # serial or identity: 1, 2, … in seed order
            return sql.SQL("{key} = %s").format(key=sql.Identifier(column.name))
    if kind == "r":
        # No usable key: the first tuple of page g (mod the table's size), a TID scan.
        return sql.SQL("ctid = format('(%%s,1)', %s::int %% {pages})::tid").format(
            pages=sql.Literal(pages)
        )
    return None


def _expression(text: str) -> sql.SQL:
    """A seeder expression inside a statement that has a parameter: `%` must be doubled."""
    return sql.SQL(text.replace("%", "%%"))


def _update_target(filled: dict[str, str], key: str | None) -> str | None:
    """The column an UPDATE sets to itself: any filled column but the key, else the key."""
    others = [name for name in filled if name != key]
    if others:
        return others[0]
    return key if key in filled else None
