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
    """Every fixed file in order, each on a connection of its own whose statements time
    out after a minute unless the file sets longer (a batch loop that never ends fails)."""
    files = migration_files(result)
    for path in files:
        dsn = conn.info.dsn
        with psycopg.connect(dsn, autocommit=True, options="-c statement_timeout=60s") as own:
            run_as_tool(own, path)
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


# --- 3. batch loops that end, on every key -------------------------------------------------

EVENTS = "CREATE TABLE events (id uuid PRIMARY KEY, kind text, seen_at timestamptz);"
EVENTS_SEED = (
    "INSERT INTO events (id, kind) SELECT gen_random_uuid(), CASE WHEN g % 2 = 0 THEN 'a' END"
    f" FROM generate_series(1, {ROWS}) g"
)


def test_batches_walk_a_uuid_key_which_has_no_min(tmp_path, databases, pg_server):
    source = "UPDATE events SET kind = 'b' WHERE kind IS NULL;\n"
    _, result = fix_on_disk(tmp_path, "psql", source, EVENTS, major(pg_server))
    text = "".join(o.text for o in result.outputs)
    assert "min(" not in text and "ORDER BY events.id LIMIT 1" in text
    conn = databases.database(EVENTS, EVENTS_SEED)
    apply_fixed(conn, result)
    assert rows(conn, "SELECT kind, count(*) FROM events GROUP BY 1 ORDER BY 1") == [
        ("a", ROWS // 2),
        ("b", ROWS // 2),
    ]


KEYLESS = "CREATE TABLE audit (kind text, seen_at timestamptz, status text);"
KEYLESS_SEED = (
    "INSERT INTO audit (kind, status) SELECT 'k' || g, CASE WHEN g % 5 = 0 THEN 'old' END"
    f" FROM generate_series(1, {ROWS}) g"
)


@pytest.mark.parametrize(
    ("source", "check", "expected"),
    [
        (  # ends because a filled row no longer matches IS NULL, though now() changes
            "UPDATE audit SET seen_at = now() WHERE seen_at IS NULL;",
            "SELECT count(*) FROM audit WHERE seen_at IS NULL",
            0,
        ),
        (  # ends because the value is the same when computed again
            "UPDATE audit SET status = 'new' WHERE status IS DISTINCT FROM 'old';",
            "SELECT count(*) FROM audit WHERE status = 'new'",
            ROWS - ROWS // 5,
        ),
        ("DELETE FROM audit WHERE status = 'old';", "SELECT count(*) FROM audit", ROWS - ROWS // 5),
    ],
    ids=["is-null-filled-by-now", "constant", "delete"],
)
def test_ctid_batches_on_a_table_without_a_key_end_with_every_row_changed(
    source, check, expected, tmp_path, databases, pg_server
):
    _, result = fix_on_disk(tmp_path, "psql", source + "\n", KEYLESS, major(pg_server))
    assert not result.unfixable and "ctid" in "".join(o.text for o in result.outputs)
    conn = databases.database(KEYLESS, KEYLESS_SEED)
    apply_fixed(conn, result)
    assert rows(conn, check) == [(expected,)]


@pytest.mark.parametrize(
    "source",
    [
        "UPDATE audit SET seen_at = now() WHERE seen_at < now();",
        "UPDATE audit SET status = random()::text;",
        "UPDATE audit SET status = (SELECT max(kind) FROM audit);",
        "UPDATE audit SET seen_at = CURRENT_TIMESTAMP WHERE kind LIKE 'k%';",
    ],
)
def test_ctid_batches_are_refused_when_a_changed_row_could_match_again(source, tmp_path):
    result = fix_source(source + "\n", "change.sql", KEYLESS, Settings())
    (reason,) = [r for f, r in result.unfixable if f.code == "ZD501"]
    assert "primary key" in reason and "now()" in reason


def test_an_update_of_the_primary_key_itself_is_not_batched_by_it(tmp_path):
    result = fix_source("UPDATE users SET id = id + 10000;\n", "change.sql", USERS, Settings())
    (reason,) = [r for f, r in result.unfixable if f.code == "ZD501"]
    assert "changes the primary key id" in reason


PRISMA_ORDERS = 'CREATE TABLE "Order" ("orderId" text, "userId" integer, "isPaid" boolean);'
PRISMA_SEED = (
    f"INSERT INTO \"Order\" SELECT 'o' || g, g % 7, NULL FROM generate_series(1, {ROWS}) g"
)


def test_camel_case_identifiers_stay_quoted_in_the_batches(tmp_path, databases, pg_server):
    source = 'UPDATE "Order" SET "isPaid" = false WHERE "userId" = 3;\n'
    _, result = fix_on_disk(tmp_path, "prisma", source, PRISMA_ORDERS, major(pg_server))
    assert not result.unfixable
    conn = databases.database(PRISMA_ORDERS, PRISMA_SEED)
    apply_fixed(conn, result)
    paid = 'SELECT "isPaid", count(*) FROM "Order" GROUP BY 1 ORDER BY 1'
    third_user = len(range(3, ROWS + 1, 7))
    assert rows(conn, paid) == [(False, third_user), (None, ROWS - third_user)]
