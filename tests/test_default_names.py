"""Unnamed constraints and indexes get the names PostgreSQL gives them (checked on a
real server), so messages and help never say "(unnamed)"."""

from __future__ import annotations

import pytest
from pglast import ast, parse_sql

from zdlint.sql.default_names import constraint_name, index_name, object_name
from zdlint.sql.names import walk

CASES = [
    ("ALTER TABLE orders ADD CHECK (total > 0)", "orders_total_check"),
    ("ALTER TABLE orders ADD CHECK (total > 0 AND tax >= 0)", "orders_check"),
    (
        "ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id)",
        "orders_customer_id_fkey",
    ),
    ("ALTER TABLE orders ADD UNIQUE (customer_id, total)", "orders_customer_id_total_key"),
    ("ALTER TABLE orders ADD PRIMARY KEY (id)", "orders_pkey"),
    ("ALTER TABLE orders ADD EXCLUDE USING btree (customer_id WITH =)", "orders_customer_id_excl"),
    ("ALTER TABLE orders ADD COLUMN code text UNIQUE", "orders_code_key"),
    ("ALTER TABLE orders ADD COLUMN ref bigint REFERENCES customers (id)", "orders_ref_fkey"),
]
INDEXES = [
    ("CREATE INDEX ON orders (customer_id)", "orders_customer_id_idx"),
    ("CREATE UNIQUE INDEX ON orders (customer_id, total)", "orders_customer_id_total_idx"),
    ("CREATE INDEX ON orders (lower(note), total)", "orders_lower_total_idx"),
    ("CREATE INDEX ON orders ((total * 2))", "orders_expr_idx"),
    ("CREATE INDEX ON orders ((note::varchar))", "orders_note_idx"),
    ("CREATE INDEX ON orders (((total * 2)::bigint))", "orders_int8_idx"),
]
SETUP = (
    "CREATE TABLE customers (id bigint PRIMARY KEY);\n"
    "CREATE TABLE orders (id bigint, customer_id bigint, total int, tax int, note text);\n"
)


def _constraint(sql: str) -> tuple[ast.Constraint, str]:
    stmt = parse_sql(sql)[0].stmt
    column = ""
    for node in walk(stmt):
        if isinstance(node, ast.ColumnDef):
            column = node.colname or ""
        if isinstance(node, ast.Constraint) and node.contype is not None:
            return node, column
    raise AssertionError(sql)


@pytest.mark.parametrize(("sql", "name"), CASES)
def test_an_unnamed_constraint_is_named_as_postgresql_names_it(sql, name, pg_conn):
    con, column = _constraint(sql)
    assert constraint_name("orders", con, column) == name
    pg_conn.execute(SETUP)
    pg_conn.execute(sql)
    names = {r[0] for r in pg_conn.execute("SELECT conname FROM pg_constraint").fetchall()}
    assert name in names


@pytest.mark.parametrize(("sql", "name"), INDEXES)
def test_an_unnamed_index_is_named_as_postgresql_names_it(sql, name, pg_conn):
    node = parse_sql(sql)[0].stmt
    assert isinstance(node, ast.IndexStmt)
    assert index_name(node) == name
    pg_conn.execute(SETUP)
    pg_conn.execute(sql)
    found = pg_conn.execute("SELECT relname FROM pg_class WHERE relkind = 'i'").fetchall()
    assert name in {r[0] for r in found}


def test_a_long_name_is_cut_like_makeobjectname():
    long_table, long_column = "t" * 40, "c" * 40
    name = object_name(long_table, long_column, "fkey")
    assert len(name) == 63 and name == f"{'t' * 29}_{'c' * 28}_fkey"


def test_long_generated_names_match_a_real_server(pg_conn):
    table, column = "orders_" + "x" * 50, "customer_reference_" + "y" * 40
    pg_conn.execute(f"CREATE TABLE {table} ({column} int)")
    sql = f"ALTER TABLE {table} ADD CHECK ({column} > 0)"
    pg_conn.execute(sql)
    (con, _) = _constraint(sql)
    (real,) = pg_conn.execute(
        "SELECT conname FROM pg_constraint WHERE contype = 'c' AND conrelid = %s::regclass",
        (table,),
    ).fetchone()
    assert constraint_name(table, con) == real
