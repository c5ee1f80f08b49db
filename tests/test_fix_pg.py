"""On a real server: the original migration (or, where it cannot run on a table with
rows, the same migration on an empty one: its evident intent) and the fixed sequence
reach the same schema. Column order may differ only where the plan says so."""

from __future__ import annotations

import itertools
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.fix_support import fix_example
from zdlint.catalogue import load_catalogue
from zdlint.fix.plan import FixOptions
from zdlint.pg.scratch import drop_database, with_dbname
from zdlint.pg.seed import seed_tables
from zdlint.pg.server import PgServer
from zdlint.source import SourceText
from zdlint.sql.parse import parse_statements
from zdlint.sql.tools import layout_for_statements

SEED_ROWS = 2_500  # more than two batches of the default 1000
_names = itertools.count(1)

CASES = [
    pytest.param(rule, example, id=f"{rule.code}-bad{i}")
    for rule in load_catalogue()
    if rule.fixable and rule.language == "sql"
    for i, example in enumerate(rule.bad_examples)
    # a migration PostgreSQL rejects has no schema to reach: its fixes are checked against
    # the intent in tests/test_fix_new_pg.py
    if example.setup and not rule.claim.rejected and example.unfixable is None
]

_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attnum
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
"""
_CONSTRAINTS = """
SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
"""
_INDEXES = """
SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid), indisvalid
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relnamespace = 'public'::regnamespace
"""
_ROUTINES = """
SELECT 'routine ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace
UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal
"""


def _schema(dsn: str, column_order: bool) -> dict[str, set[tuple]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        columns = {row if column_order else row[:5] for row in conn.execute(_COLUMNS)}
        return {
            "columns": columns,
            "constraints": set(conn.execute(_CONSTRAINTS)),
            "indexes": set(conn.execute(_INDEXES)),
            "routines": set(conn.execute(_ROUTINES)),
        }


def _run_file(conn: psycopg.Connection, path: Path, text: str) -> None:
    """Run a migration file the way its tool would: wrapped in one transaction, or
    statement by statement."""
    parsed = parse_statements(SourceText(text))
    layout = layout_for_statements(path, parsed, text)
    wrapped = layout.wraps_by_default
    statements = [s for s in parsed if layout.region_at(s.start).deploy]
    if wrapped:
        conn.execute("BEGIN")
    for stmt in statements:
        conn.execute(stmt.text)
    if wrapped:
        conn.execute("COMMIT")


def _fresh(server: PgServer, setup: str, rows: int) -> str:
    name = f"zdlint_fixpg_{next(_names)}"
    with psycopg.connect(server.dsn(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = with_dbname(server.dsn(), name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(setup)
        seed_tables(conn, rows)
    return name


def _apply(
    server: PgServer, setup: str, files: list[tuple[Path, str]], rows: int
) -> tuple[str, str | None]:
    """A fresh database with the files applied; (name, error or None)."""
    name = _fresh(server, setup, rows)
    with psycopg.connect(with_dbname(server.dsn(), name), autocommit=True) as conn:
        try:
            for path, text in files:
                _run_file(conn, path, text)
        except psycopg.Error as exc:
            return name, f"{path}: {exc}"
    return name, None


def _apply_original(pg_server, example, path: Path, databases: list[str]) -> tuple[str, int]:
    """The database the example's migration reaches on seeded tables, or where it cannot
    run on a table with rows (e.g. ADD COLUMN … NOT NULL), its evident intent on empty
    ones; (name, rows seeded). Every database made is added to `databases`."""
    for rows in (SEED_ROWS, 0):
        original, error = _apply(pg_server, example.setup, [(path, example.source)], rows)
        databases.append(original)
        if error is None:
            return original, rows
    raise AssertionError(error)


@pytest.mark.parametrize(("rule", "example"), CASES)
def test_fixed_sequence_reaches_the_schema_of_the_original(rule, example, pg_server):
    major = pg_server.version // 10000
    if not rule.applies_to(major) or (example.pg_version or major) > major:
        pytest.skip(f"{rule.code} example does not apply to PostgreSQL {major}")
    extra = {} if rule.enabled else {"extend_select": (rule.code,)}
    result = fix_example(example, pg_version=major, **extra)
    assert result.changed, result.unfixable
    plan_reorders = any(p.reorders_columns for p in result.plans)
    path = Path(example.path or "example.sql")
    databases = []
    try:
        original, rows = _apply_original(pg_server, example, path, databases)
        files = [(o.path, o.text) for o in result.outputs if o.path.name.endswith(".sql")]
        fixed, error = _apply(pg_server, example.setup, files, rows)
        databases.append(fixed)
        assert error is None, error
        want = _schema(with_dbname(pg_server.dsn(), original), not plan_reorders)
        got = _schema(with_dbname(pg_server.dsn(), fixed), not plan_reorders)
        if any(p.keeps_bound_check for p in result.plans):
            # DETACH … CONCURRENTLY adds a CHECK mirroring the bound, as its plan says
            got["constraints"] = {
                c for c in got["constraints"] if c in want["constraints"] or c[2][:5] != "CHECK"
            }
        added = {name for p in result.plans for name in p.adds_indexes}
        if added:  # the index an unindexed foreign key gets, as its plan says: built, valid
            assert {(i[0], i[2]) for i in got["indexes"] if i[0] in added} == {
                (name, True) for name in added
            }
            got["indexes"] = {i for i in got["indexes"] if i[0] not in added}
        assert got == want
    finally:
        for name in databases:
            drop_database(pg_server.dsn(), name)


def test_backfilled_not_null_column_is_filled_on_every_row(pg_server):
    rule = load_catalogue().get("ZD301")
    example = rule.bad_examples[0]
    from tests.fix_support import example_settings, fix_source

    result = fix_source(
        example.source,
        setup=example.setup,
        settings=example_settings(example, pg_version=pg_server.version // 10000),
        options=FixOptions(backfill_expr="id * 2", batch_size=700),
    )
    files = [(o.path, o.text) for o in result.outputs if o.path.name.endswith(".sql")]
    name, error = _apply(pg_server, example.setup, files, SEED_ROWS)
    try:
        assert error is None, error
        with psycopg.connect(with_dbname(pg_server.dsn(), name)) as conn:
            wrong = conn.execute(
                "SELECT count(*) FROM users WHERE tenant_id IS DISTINCT FROM id * 2"
            ).fetchone()
            notnull = conn.execute(
                "SELECT attnotnull FROM pg_attribute"
                " WHERE attrelid = 'users'::regclass AND attname = 'tenant_id'"
            ).fetchone()
        assert wrong == (0,) and notnull == (True,)
    finally:
        drop_database(pg_server.dsn(), name)


@pytest.mark.parametrize("index", [0, 1], ids=["range", "list-with-null"])
def test_fixed_attach_partition_finds_its_bound_proven_and_skips_the_scan(pg_server, index):
    example = load_catalogue().get("ZD107").bad_examples[index]
    result = fix_example(example, pg_version=pg_server.version // 10000)
    (output,) = result.outputs
    name = _fresh(pg_server, example.setup, 0)
    try:
        with psycopg.connect(with_dbname(pg_server.dsn(), name), autocommit=True) as conn:
            notices: list[str] = []
            conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
            conn.execute("SET client_min_messages = debug1")
            for stmt in parse_statements(SourceText(output.text)):
                conn.execute(stmt.text)
        assert any("is implied by existing constraints" in n for n in notices), notices
    finally:
        drop_database(pg_server.dsn(), name)
