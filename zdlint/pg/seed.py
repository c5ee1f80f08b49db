"""Fill the tables a migration touches with N rows, so scans and rewrites are real.

Every generated value is a function of the row number `g`, the same for every column of
the same type, so a foreign key column finds its referenced row when both tables are
seeded. Columns with a default, identity or generated columns are left to Postgres.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

import psycopg
from psycopg import sql

from zdlint.pg.observe import FIRST_USER_OID


@dataclass(frozen=True)
class SeedReport:
    rows: int
    seeded: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]  # (table, why it was not seeded)


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    max_length: int | None
    precision: int | None
    scale: int | None
    nullable: bool
    generated_by_server: bool  # default, identity or generated
    udt: str  # qualified type name, for enums
    is_enum: bool = False


_TABLES = """
SELECT c.oid::int8, c.oid::regclass::text, n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid >= %s AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT LIKE 'pg\\_%%' AND n.nspname <> 'information_schema'
ORDER BY c.oid
"""

_COLUMNS = """
SELECT column_name, data_type, character_maximum_length, numeric_precision, numeric_scale,
       is_nullable = 'YES',
       column_default IS NOT NULL OR is_identity = 'YES' OR is_generated = 'ALWAYS',
       format('%%I.%%I', udt_schema, udt_name),
       (SELECT t.typtype = 'e' FROM pg_type t JOIN pg_namespace tn ON tn.oid = t.typnamespace
         WHERE tn.nspname = c.udt_schema AND t.typname = c.udt_name)
FROM information_schema.columns c
WHERE table_schema = %s AND table_name = %s
ORDER BY ordinal_position
"""

_FOREIGN_KEYS = """
SELECT conrelid::int8, confrelid::int8 FROM pg_constraint
WHERE contype = 'f' AND conrelid <> confrelid AND conrelid >= %s
"""

_SIMPLE = {
    "integer": "g",
    "bigint": "g::bigint",
    "smallint": "(g % 32767)::smallint",
    "real": "g::real",
    "double precision": "g::float8",
    "text": "'text ' || g",
    "boolean": "g % 2 = 0",
    "timestamp without time zone": "timestamp '2024-01-01' + g * interval '1 second'",
    "timestamp with time zone": "timestamptz '2024-01-01 00:00+00' + g * interval '1 second'",
    "date": "date '2024-01-01' + g % 3650",
    "time without time zone": "time '00:00' + g * interval '1 second'",
    "interval": "g * interval '1 second'",
    "uuid": "md5(g::text)::uuid",
    "jsonb": "jsonb_build_object('n', g)",
    "json": "json_build_object('n', g)",
    "bytea": "decode(md5(g::text), 'hex')",
    "inet": "'10.0.0.0'::inet + g",
}


def value_expression(column: Column, is_enum: bool = False) -> str | None:
    """SQL computing this column's value for row `g`, or None when we cannot make one."""
    if column.data_type in _SIMPLE:
        return _SIMPLE[column.data_type]
    if column.data_type in ("character varying", "character"):
        text = "'v' || g"
        return f"left({text}, {column.max_length})" if column.max_length else text
    if column.data_type == "numeric":
        if column.precision is None:
            return "g::numeric"
        digits = column.precision - (column.scale or 0)
        return f"(g % {10**digits})::numeric" if digits > 0 else "0"
    if column.data_type == "USER-DEFINED" and (is_enum or column.is_enum):
        return f"(enum_range(NULL::{column.udt}))[1]"
    return None


SeedProgress = Callable[[str, int, int], None]  # (table, its position from 1, how many)


def seed_tables(
    conn: psycopg.Connection,
    rows: int,
    tables: Collection[int] | None = None,
    progress: SeedProgress | None = None,
) -> SeedReport:
    """Insert `rows` rows into every user table (or into `tables`, OIDs), referenced first.

    With `tables`, the tables they reference through foreign keys are seeded too, so the
    generated foreign key values find their rows. `conn` must be in autocommit mode: each
    table is its own transaction, so one table that cannot be seeded (a CHECK we do not
    satisfy, a type we cannot make) is skipped with the reason and the others are seeded.
    """
    seeded: list[str] = []
    skipped: list[tuple[str, str]] = []
    if rows <= 0:
        return SeedReport(rows, (), ())
    names = {
        oid: (name, schema, rel)
        for oid, name, schema, rel in conn.execute(_TABLES, (FIRST_USER_OID,))
    }
    edges = [(a, b) for a, b in conn.execute(_FOREIGN_KEYS, (FIRST_USER_OID,))]
    order = _referenced_first(list(names), edges)
    if tables is not None:
        wanted = _with_referenced(set(tables), edges)
        order = [oid for oid in order if oid in wanted]
    for position, oid in enumerate(order, start=1):
        name, schema, rel = names[oid]
        if progress is not None:
            progress(name, position, len(order))
        statement, problem = _insert(conn, name, schema, rel, rows)
        if statement is None:
            skipped.append((name, problem or "no columns to fill"))
            continue
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            skipped.append((name, str(exc).strip().splitlines()[0]))
        else:
            seeded.append(name)
    return SeedReport(rows, tuple(seeded), tuple(skipped))


def table_columns(conn: psycopg.Connection, schema: str, table: str) -> list[Column]:
    """The columns of `schema.table` in order, as the seeder sees them."""
    columns = []
    for (
        name,
        data_type,
        length,
        precision,
        scale,
        nullable,
        by_server,
        udt,
        is_enum,
    ) in conn.execute(_COLUMNS, (schema, table)):
        columns.append(
            Column(
                name, data_type, length, precision, scale, nullable, by_server, udt, bool(is_enum)
            )
        )
    return columns


def _insert(
    conn: psycopg.Connection, name: str, schema: str, rel: str, rows: int
) -> tuple[sql.Composed | None, str | None]:
    targets: list[sql.Composable] = []
    values: list[sql.Composable] = []
    for column in table_columns(conn, schema, rel):
        expression = None if column.generated_by_server else value_expression(column)
        if expression is None:
            if column.nullable or column.generated_by_server:
                continue
            return (
                None,
                f"cannot generate {column.data_type} values for column {column.name}",
            )
        targets.append(sql.Identifier(column.name))
        values.append(sql.SQL(expression))
    columns = sql.SQL("({})").format(sql.SQL(", ").join(targets)) if targets else sql.SQL("")
    select = sql.SQL(", ").join(values) if values else sql.SQL("")
    statement = sql.SQL(
        "INSERT INTO {table} {columns} SELECT {select} FROM generate_series(1, {rows}) AS g "
        "ON CONFLICT DO NOTHING"
    ).format(table=sql.SQL(name), columns=columns, select=select, rows=sql.Literal(rows))
    return statement, None


def _with_referenced(tables: set[int], edges: list[tuple[int, int]]) -> set[int]:
    """`tables` and every table they reference, directly or not."""
    found = set(tables)
    frontier = list(tables)
    while frontier:
        table = frontier.pop()
        for child, parent in edges:
            if child == table and parent not in found:
                found.add(parent)
                frontier.append(parent)
    return found


def _referenced_first(tables: list[int], edges: list[tuple[int, int]]) -> list[int]:
    """Tables ordered so a referenced table comes before the tables referencing it."""
    order: list[int] = []
    visiting: set[int] = set()
    depends = {t: [b for a, b in edges if a == t and b in tables] for t in tables}

    def visit(table: int) -> None:
        if table in order or table in visiting:
            return  # done, or a cycle: seed in whatever order remains
        visiting.add(table)
        for parent in depends[table]:
            visit(parent)
        visiting.discard(table)
        order.append(table)

    for table in tables:
        visit(table)
    return order
