"""On a real server, with rows seeded first: the fixed migrations run the way each tool
runs them, lose no row and change every row the original changed.

Each case writes the migration in its tool's layout, fixes it with --write, then applies
the original (in a database of its own) and every fixed file in order, the contract
files last, and compares row counts, contents and schema.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.fix_support import fix_source
from zdlint.config import Settings
from zdlint.fix.apply import write
from zdlint.fix.fixer import FileFix
from zdlint.fix.plan import FixOptions
from zdlint.pg.scratch import drop_database, with_dbname
from zdlint.pg.server import PgServer
from zdlint.source import SourceText
from zdlint.sql.parse import parse_statements
from zdlint.sql.tools import layout_for_statements

ROWS = 2_500  # several batches of BATCH
BATCH = 700
_names = itertools.count(1)

# (tool, where its migration goes, files beside it)
TOOLS = {
    "diesel": ("migrations/2024-01-01-120000_change/up.sql", {}),
    "golang-migrate": ("000042_change.up.sql", {}),
    "sqlx": ("migrations/20240101120000_change.sql", {}),
    "prisma": (
        "migrations/20240101120000_change/migration.sql",
        {"migrations/migration_lock.toml": 'provider = "postgresql"\n'},
    ),
    "psql": ("change.sql", {}),
}


def run_as_tool(conn: psycopg.Connection, path: Path) -> None:
    """Run a migration file as its tool does: a batch tool sends each region as one
    query (in its own BEGIN … COMMIT, or PostgreSQL's implicit block when it has none);
    the others send statement by statement, inside BEGIN … COMMIT when they wrap."""
    text = path.read_text()
    parsed = parse_statements(SourceText(text))
    layout = layout_for_statements(path, parsed, text)
    for region in layout.regions:
        statements = [
            s for s in parsed if region.start <= s.start < region.end and s.node is not None
        ]
        if not region.deploy or not statements:
            continue
        if region.batch:
            body = text[region.start : region.end]
            if region.implicit:
                conn.execute(body)  # type: ignore[call-overload]
            else:
                conn.execute("BEGIN")
                conn.execute(body)  # type: ignore[call-overload]
                conn.execute("COMMIT")
            continue
        if region.wrapped:
            conn.execute("BEGIN")
        for stmt in statements:
            conn.execute(stmt.text)  # type: ignore[call-overload]
        if region.wrapped:
            conn.execute("COMMIT")


def fix_on_disk(
    root: Path, tool: str, source: str, setup: str, pg_version: int, **options: object
) -> tuple[Path, FileFix]:
    """The migration written in `tool`'s layout under `root` and fixed with --write."""
    name, beside = TOOLS[tool]
    for rel, text in {**beside, name: source}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    settings = Settings(pg_version=pg_version)
    result = fix_source(
        source, name, setup, settings, FixOptions(batch_size=BATCH, **options), folder=root
    )  # type: ignore[arg-type]
    write(result)
    return root / name, result


def migration_files(result: FileFix) -> list[Path]:
    """The fixed files in the order they run: the migration, the files after it, then
    the contract files (shipped later)."""
    sql_files = [o.path for o in result.outputs if o.path.name.endswith(".sql")]
    sql_files = [p for p in sql_files if p.name != "down.sql"]
    return sql_files


class Server:
    """Fresh databases on the session's server, each set up and seeded the same way."""

    def __init__(self, server: PgServer) -> None:
        self.server = server
        self.names: list[str] = []

    def database(self, setup: str, seed: str) -> psycopg.Connection:
        name = f"zdlint_safety_{next(_names)}"
        with psycopg.connect(self.server.dsn(), autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.names.append(name)
        conn = psycopg.connect(with_dbname(self.server.dsn(), name), autocommit=True)
        conn.execute(setup)  # type: ignore[call-overload]
        conn.execute(seed)  # type: ignore[call-overload]
        return conn

    def drop(self) -> None:
        for name in self.names:
            drop_database(self.server.dsn(), name)


@pytest.fixture
def databases(pg_server: PgServer):
    found = Server(pg_server)
    try:
        yield found
    finally:
        found.drop()


def major(pg_server: PgServer) -> int:
    return pg_server.version // 10000


def apply_fixed(conn: psycopg.Connection, result: FileFix) -> list[Path]:
    files = migration_files(result)
    for path in files:
        run_as_tool(conn, path)
    return files


def rows(conn: psycopg.Connection, query: str) -> list[tuple]:
    return list(conn.execute(query))  # type: ignore[call-overload]


def column_facts(conn: psycopg.Connection, table: str) -> dict[str, tuple]:
    """name -> (type, not null, default) of the table's columns."""
    return {
        name: (kind, not_null, default)
        for name, kind, not_null, default in conn.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,"
            " pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a"
            " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
            " WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
            (table,),
        )
    }


# --- 1. backfills in tools that wrap a file in a transaction ------------------------------

USERS = "CREATE TABLE users (id bigint PRIMARY KEY, fullname text, token uuid);"
USERS_SEED = (
    "INSERT INTO users (id, fullname) SELECT g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'n' || g END"
    f" FROM generate_series(1, {ROWS}) g"
)


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_backfill_then_not_null_runs_to_completion_before_the_not_null(
    tool, tmp_path, databases, pg_server
):
    """`UPDATE …; SET NOT NULL` in one file: the batches all commit before the NOT NULL
    steps, which run in later migrations (or later in the file)."""
    source = (
        "UPDATE users SET fullname = 'unknown' WHERE fullname IS NULL;\n"
        "ALTER TABLE users ALTER COLUMN fullname SET NOT NULL;\n"
    )
    _, result = fix_on_disk(tmp_path, tool, source, USERS, major(pg_server))
    assert {f.code for f in result.fixed} >= {"ZD501", "ZD101"}
    assert not result.unfixable
    conn = databases.database(USERS, USERS_SEED)
    files = apply_fixed(conn, result)
    filled = "SELECT count(*), count(*) FILTER (WHERE fullname = 'unknown') FROM users"
    assert rows(conn, filled) == [(ROWS, ROWS // 3)]
    assert column_facts(conn, "users")["fullname"][1] is True
    call = next(p for p in files if "CALL " in p.read_text())
    if tool != "psql":  # the CALL is alone in its migration, the NOT NULL in later ones
        assert call.read_text().count(";") == 1
        later = files[files.index(call) + 1 :]
        assert any("SET NOT NULL" in p.read_text() for p in later)


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_volatile_default_fills_every_row_before_not_null(tool, tmp_path, databases, pg_server):
    source = "ALTER TABLE users ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();\n"
    _, result = fix_on_disk(tmp_path, tool, source, USERS, major(pg_server))
    assert "ZD201" in {f.code for f in result.fixed}
    conn = databases.database(USERS, USERS_SEED)
    apply_fixed(conn, result)
    assert rows(conn, "SELECT count(*), count(DISTINCT public_id) FROM users") == [(ROWS, ROWS)]
    assert column_facts(conn, "users")["public_id"] == ("uuid", True, "gen_random_uuid()")
