"""On a real server, the fixes of the rules that became fixable with issue 16: the fixed
files apply the way their tool runs them, on seeded tables, reach the schema the original
reaches (or, where PostgreSQL rejects the original, the schema it meant) and keep every
row."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.fix_support import fix_example, fix_source
from tests.test_fix_pg import SEED_ROWS, _apply, _apply_original, _schema
from zdlint.catalogue import load_catalogue
from zdlint.pg.scratch import drop_database, with_dbname
from zdlint.source import SourceText
from zdlint.sql.parse import parse_statements

CATALOGUE = load_catalogue()

_TABLES = """
SELECT format('%I', relname) FROM pg_class
WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') ORDER BY relname
"""


def _rows(dsn: str, tables: set[str] | None = None) -> dict[str, tuple]:
    """Row count and a checksum of every row, per table (of `tables`, when given)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        names = [name for (name,) in conn.execute(_TABLES)]
        return {
            name: conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
                f" FROM {name} t"  # noqa: S608 - names read from pg_class, quoted by format()
            ).fetchone()
            for name in names
            if tables is None or name in tables
        }


def _outputs(result) -> list[tuple[Path, str]]:
    return [(o.path, o.text) for o in result.outputs if o.path.name.endswith(".sql")]


def _intent_without_transactions(source: str) -> list[tuple[Path, str]]:
    """What a rejected CONCURRENTLY migration meant: its statements one by one, outside
    any transaction (plain files, which no tool wraps)."""
    statements = [
        s.text
        for s in parse_statements(SourceText(source))
        if s.text.strip().upper() not in ("BEGIN", "COMMIT")
    ]
    return [(Path(f"intent/{i:03}.sql"), f"{s};\n") for i, s in enumerate(statements)]


ZD402 = [
    pytest.param(example, id=f"ZD402-bad{i}")
    for i, example in enumerate(CATALOGUE.get("ZD402").bad_examples)
]


@pytest.mark.parametrize("example", ZD402)
def test_concurrent_statement_moved_out_of_its_transaction_runs_and_builds_a_valid_index(
    pg_server, example
):
    major = pg_server.version // 10000
    result = fix_example(example, pg_version=major)
    assert "ZD402" in {f.code for f in result.fixed}, result.unfixable
    path = Path(example.path or "example.sql")
    databases = []
    try:
        original, error = _apply(pg_server, example.setup, [(path, example.source)], SEED_ROWS)
        databases.append(original)
        assert error is not None and "cannot run inside a transaction block" in error
        intent, error = _apply(
            pg_server, example.setup, _intent_without_transactions(example.source), SEED_ROWS
        )
        databases.append(intent)
        assert error is None, error
        fixed, error = _apply(pg_server, example.setup, _outputs(result), SEED_ROWS)
        databases.append(fixed)
        assert error is None, error
        want, got = (with_dbname(pg_server.dsn(), name) for name in (intent, fixed))
        assert _schema(got, column_order=True) == _schema(want, column_order=True)
        assert all(valid for _, _, valid in _schema(got, column_order=True)["indexes"])
        assert _rows(got) == _rows(want)
    finally:
        for name in databases:
            drop_database(pg_server.dsn(), name)


def test_invalid_leftover_index_is_rebuilt_where_if_not_exists_would_keep_it(pg_conn):
    setup = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);"
    source = (
        "SET lock_timeout = '2s';\nSET statement_timeout = '30min';\n"
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_key\n"
        "    ON orders (customer_id);\n"
    )
    (output,) = fix_source(source, setup=setup).outputs
    pg_conn.execute(setup)
    pg_conn.execute("INSERT INTO orders SELECT g, g % 10 FROM generate_series(1, 100) g")
    with pytest.raises(psycopg.errors.UniqueViolation):  # an earlier attempt failed
        pg_conn.execute(
            "CREATE UNIQUE INDEX CONCURRENTLY orders_customer_key ON orders (customer_id)"
        )
    pg_conn.execute("UPDATE orders SET customer_id = id")  # the data is fixed, then a retry
    valid = "SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_customer_key'::regclass"
    for stmt in parse_statements(SourceText(source)):
        pg_conn.execute(stmt.text)
    assert pg_conn.execute(valid).fetchone() == (False,)  # the original keeps the leftover
    for stmt in parse_statements(SourceText(output.text)):
        pg_conn.execute(stmt.text)
    assert pg_conn.execute(valid).fetchone() == (True,)
    assert pg_conn.execute("SELECT count(*) FROM orders").fetchone() == (100,)


NEWLY_FIXABLE = ("ZD111", "ZD150", "ZD304", "ZD305", "ZD310", "ZD403", "ZD409")
SEEDED = [
    pytest.param(rule, example, id=f"{rule.code}-bad{i}")
    for rule in CATALOGUE
    if rule.code in NEWLY_FIXABLE
    for i, example in enumerate(rule.bad_examples)
    if example.setup and example.unfixable is None
]


@pytest.mark.parametrize(("rule", "example"), SEEDED)
def test_fixed_files_reach_the_original_schema_and_keep_every_seeded_row(pg_server, rule, example):
    major = pg_server.version // 10000
    result = fix_example(example, pg_version=major)
    assert rule.code in {f.code for f in result.fixed}, result.unfixable
    path = Path(example.path or "example.sql")
    databases = []
    try:
        original, rows = _apply_original(pg_server, example, path, databases)
        fixed, error = _apply(pg_server, example.setup, _outputs(result), rows)
        databases.append(fixed)
        assert error is None, error
        want, got = (with_dbname(pg_server.dsn(), name) for name in (original, fixed))
        added = {name for p in result.plans for name in p.adds_indexes}
        fixed_schema = _schema(got, column_order=True)
        fixed_schema["indexes"] = {i for i in fixed_schema["indexes"] if i[0] not in added}
        assert fixed_schema == _schema(want, column_order=True)
        assert _rows(got) == _rows(want)
    finally:
        for name in databases:
            drop_database(pg_server.dsn(), name)


def test_serial_column_added_in_batches_numbers_every_row_from_its_own_sequence(pg_server):
    (example,) = [e for e in CATALOGUE.get("ZD201").bad_examples if "serial" in e.source]
    result = fix_example(example, pg_version=pg_server.version // 10000)
    path = Path(example.path or "example.sql")
    databases: list[str] = []
    try:
        original, rows = _apply_original(pg_server, example, path, databases)
        fixed, error = _apply(pg_server, example.setup, _outputs(result), rows)
        databases.append(fixed)
        assert error is None, error
        want, got = (with_dbname(pg_server.dsn(), name) for name in (original, fixed))
        assert _schema(got, column_order=True) == _schema(want, column_order=True)
        with psycopg.connect(got) as conn:
            numbered = conn.execute(
                "SELECT count(*), count(DISTINCT seq), count(seq) FROM orders"
            ).fetchone()
            owner = conn.execute(
                "SELECT pg_get_serial_sequence('orders', 'seq'), nextval('orders_seq_seq')"
            ).fetchone()
        assert numbered == (rows, rows, rows) and rows == SEED_ROWS
        assert owner == ("public.orders_seq_seq", rows + 1)  # new rows continue after them
    finally:
        for name in databases:
            drop_database(pg_server.dsn(), name)
