"""On a real server: an ALTER TABLE with several subcommands and its split parts, run one
after the other, reach the same table (columns in the same order, constraints, indexes)
and keep the same rows."""

from __future__ import annotations

import psycopg
import pytest

from tests.test_fix_pg import _fresh, _schema
from zdlint.fix.split import split_alter
from zdlint.pg.scratch import drop_database, with_dbname
from zdlint.source import SourceText
from zdlint.sql.parse import parse_statements

SETUP = """
CREATE TABLE customers (id bigint PRIMARY KEY);
CREATE TABLE orders (id bigint PRIMARY KEY, status text, total integer, note varchar(20));
"""
ROWS = 300

STATEMENTS = {
    "constraint-before-its-column": """ALTER TABLE orders
        ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id),
        ADD COLUMN customer_id bigint""",
    "drop-and-add-the-same-name": """ALTER TABLE orders DROP COLUMN status,
        ADD COLUMN status text NOT NULL DEFAULT 'new'""",
    "types-defaults-and-checks": """ALTER TABLE orders ALTER COLUMN total SET DEFAULT 0,
        ALTER COLUMN total TYPE bigint, ALTER COLUMN note TYPE text,
        ADD COLUMN rank integer NOT NULL DEFAULT 1,
        ADD CONSTRAINT orders_rank_positive CHECK (rank > 0)""",
    "unique-on-a-new-serial": """ALTER TABLE orders ADD CONSTRAINT orders_seq_key UNIQUE (seq),
        ADD COLUMN seq serial, ALTER COLUMN note SET NOT NULL""",
}

_ROWS = "SELECT count(*), md5(string_agg(o::text, '|' ORDER BY o.id)) FROM orders o"


def _run(pg_server, statements: list[str]) -> tuple[str, dict, tuple, str | None]:
    name = _fresh(pg_server, SETUP, ROWS)
    dsn = with_dbname(pg_server.dsn(), name)
    error = None
    with psycopg.connect(dsn, autocommit=True) as conn:
        try:
            with conn.transaction():
                for sql in statements:
                    conn.execute(sql)
        except psycopg.Error as exc:
            error = type(exc).__name__
        rows = conn.execute(_ROWS).fetchone()
    return name, _schema(dsn, column_order=True), rows, error


@pytest.mark.parametrize("sql", STATEMENTS.values(), ids=STATEMENTS.keys())
def test_split_parts_reach_the_same_table_and_rows_as_the_statement(pg_server, sql):
    (stmt,) = parse_statements(SourceText(sql))
    parts = split_alter(stmt, sql)
    assert parts is not None and len(parts) > 1
    names = []
    try:
        name, want_schema, want_rows, want_error = _run(pg_server, [stmt.text])
        names.append(name)
        name, got_schema, got_rows, got_error = _run(pg_server, parts)
        names.append(name)
        assert got_error == want_error
        assert got_schema == want_schema
        assert got_rows == want_rows and want_rows[0] == ROWS
    finally:
        for name in names:
            drop_database(pg_server.dsn(), name)


def test_the_written_order_would_have_failed(pg_server):
    """The reason parts follow PostgreSQL's passes: the constraint names a column that
    only a later subcommand adds."""
    sql = STATEMENTS["constraint-before-its-column"]
    written = [
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id)"
        " REFERENCES customers (id)",
        "ALTER TABLE orders ADD COLUMN customer_id bigint",
    ]
    (stmt,) = parse_statements(SourceText(sql))
    assert split_alter(stmt, sql) == [f"{written[1]};", f"{written[0]};"]
    name, _, _, error = _run(pg_server, written)
    drop_database(pg_server.dsn(), name)
    assert error == "UndefinedColumn"
