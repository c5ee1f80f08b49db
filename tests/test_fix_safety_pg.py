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
from zdlint.pg.apply import ApplyError, apply_as_tool
from zdlint.pg.scratch import drop_database, with_dbname
from zdlint.pg.server import PgServer
from zdlint.source import SourceText
from zdlint.sql.parse import parse_statements

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
    """`apply_as_tool` on the file, raising the server's own error."""
    try:
        apply_as_tool(conn, path, path.read_text())
    except ApplyError as exc:
        assert isinstance(exc.__cause__, psycopg.Error)
        raise exc.__cause__ from None


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


def plain_fix(source: str, setup: str) -> FileFix:
    """`zdlint fix` of a psql migration over the schema `setup` describes (no server)."""
    return fix_source(source, "change.sql", setup, Settings())


def refusal(source: str, setup: str, code: str) -> str:
    """Why `code`'s finding in `source` is not rewritten (exactly one such finding)."""
    (reason,) = [r for f, r in plain_fix(source, setup).unfixable if f.code == code]
    return reason


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
    reason = refusal(source + "\n", KEYLESS, "ZD501")
    assert "primary key" in reason and "now()" in reason


def test_an_update_of_the_primary_key_itself_is_not_batched_by_it(tmp_path):
    reason = refusal("UPDATE users SET id = id + 10000;\n", USERS, "ZD501")
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


# --- 2. expand/contract keeps every row, key, sequence, index and constraint --------------

SCHEMA_FACTS = {
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid)
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
          AND a.attnum > 0 AND NOT a.attisdropped""",
    "constraints": """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace""",
    "indexes": """
        SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid), indisvalid
        FROM pg_index JOIN pg_class c ON c.oid = indexrelid
        WHERE c.relnamespace = 'public'::regnamespace""",
    "sequences": """
        SELECT s.relname, t.relname, a.attname FROM pg_class s
        LEFT JOIN pg_depend d ON d.objid = s.oid AND d.deptype = 'a'
        LEFT JOIN pg_class t ON t.oid = d.refobjid
        LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE s.relkind = 'S'""",
    "routines": """
        SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace
        UNION ALL SELECT tgname FROM pg_trigger WHERE NOT tgisinternal""",
}


def schema_facts(conn: psycopg.Connection) -> dict[str, set[tuple]]:
    return {name: set(rows(conn, query)) for name, query in SCHEMA_FACTS.items()}


def run_original(databases: Server, tool: str, source: str, setup: str, seed: str, root: Path):
    """The original migration, run as its tool runs it, in a database of its own."""
    name, beside = TOOLS[tool]
    path = root / "original" / name
    for rel, text in {**beside, name: source}.items():
        (root / "original" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "original" / rel).write_text(text)
    conn = databases.database(setup, seed)
    run_as_tool(conn, path)
    return conn


def apply_with_writes_before_the_backfill(
    conn: psycopg.Connection, result: FileFix, writes: str
) -> None:
    """The fixed files in order; `writes` (what the old version keeps doing) runs once the
    sync trigger exists and before the batches copy the rows."""
    files = migration_files(result)
    call = next(i for i, p in enumerate(files) if p.read_text().count("CALL ") == 1)
    assert "CREATE TRIGGER" in "".join(p.read_text() for p in files[:call])
    for k, path in enumerate(files):
        if k == call:
            conn.execute(writes)  # type: ignore[call-overload]
        run_as_tool(conn, path)


ACCOUNTS = """
CREATE TABLE accounts (
  id serial PRIMARY KEY,
  code varchar(20) NOT NULL,
  score int CONSTRAINT accounts_score_check CHECK (score >= 0),
  CONSTRAINT accounts_code_score_key UNIQUE (code, score)
);
CREATE INDEX accounts_score_idx ON accounts (score) WHERE score > 10;
CREATE INDEX accounts_code_score_idx ON accounts (lower(code), score);
"""
ACCOUNTS_SEED = (
    f"INSERT INTO accounts (code, score) SELECT 'c' || g, g % 50 FROM generate_series(1, {ROWS}) g"
)
# what the running (old) version writes during the copy
OLD_VERSION_WRITES = (
    "INSERT INTO accounts (code, score) VALUES ('late1', 7), ('late2', 70);"
    " UPDATE accounts SET score = score + 1000 WHERE id % 100 = 0;"
)
ACCOUNT_ROWS = "SELECT id, code, score FROM accounts ORDER BY id"


@pytest.mark.parametrize(
    "source",
    [
        "ALTER TABLE accounts ALTER COLUMN score TYPE bigint;",
        "ALTER TABLE accounts ALTER COLUMN id TYPE bigint;",
        "ALTER TABLE accounts RENAME COLUMN score TO points;",
    ],
    ids=["indexed-checked-column", "serial-primary-key", "rename"],
)
def test_expand_contract_keeps_every_row_key_sequence_index_and_constraint(
    source, tmp_path, databases, pg_server
):
    _, result = fix_on_disk(tmp_path, "diesel", source + "\n", ACCOUNTS, major(pg_server))
    assert not result.unfixable, result.unfixable
    original = run_original(databases, "diesel", source, ACCOUNTS, ACCOUNTS_SEED, tmp_path)
    renamed = "RENAME" in source  # the original breaks the old version: it writes `points`
    original.execute(
        OLD_VERSION_WRITES.replace("score", "points") if renamed else OLD_VERSION_WRITES
    )
    fixed = databases.database(ACCOUNTS, ACCOUNTS_SEED)
    apply_with_writes_before_the_backfill(fixed, result, OLD_VERSION_WRITES)
    read = ACCOUNT_ROWS.replace("score", "points") if renamed else ACCOUNT_ROWS
    assert rows(fixed, read) == rows(original, read)
    assert schema_facts(fixed) == schema_facts(original)
    # the sequence still fills the key for the new version's inserts
    insert = "INSERT INTO accounts (code) VALUES ('after') RETURNING id"
    assert rows(fixed, insert) == rows(original, insert)


def test_the_sync_trigger_and_backfill_raise_where_the_original_would(
    tmp_path, databases, pg_server
):
    """varchar(20) -> varchar(4): ALTER COLUMN TYPE converts by assignment, which raises on
    a value too long; an explicit cast would cut it silently."""
    source = "ALTER TABLE accounts ALTER COLUMN code TYPE varchar(4);\n"
    _, result = fix_on_disk(tmp_path, "diesel", source, ACCOUNTS, major(pg_server))
    files = migration_files(result)
    with pytest.raises(psycopg.errors.StringDataRightTruncation):
        run_original(databases, "diesel", source, ACCOUNTS, ACCOUNTS_SEED, tmp_path)
    fixed = databases.database(ACCOUNTS, ACCOUNTS_SEED)
    run_as_tool(fixed, files[0])  # the new column and its trigger
    with pytest.raises(psycopg.errors.StringDataRightTruncation):
        fixed.execute("INSERT INTO accounts (code) VALUES ('too long')")
    call = next(p for p in files if p.read_text().count("CALL ") == 1)
    with pytest.raises(psycopg.errors.StringDataRightTruncation):
        for path in files[1 : files.index(call) + 1]:
            run_as_tool(fixed, path)
    # the batches committed before the failing one hold whole values, none cut short
    assert rows(fixed, "SELECT count(*) FROM accounts WHERE code_new <> code") == [(0,)]


@pytest.mark.parametrize(
    ("setup", "source", "reason"),
    [
        (
            ACCOUNTS + "CREATE TABLE orders (id bigint PRIMARY KEY,"
            " account_id int REFERENCES accounts);",
            "ALTER TABLE accounts ALTER COLUMN id TYPE bigint;",
            "the foreign key orders.orders_account_id_fkey references accounts.id",
        ),
        (
            "CREATE TABLE tickets (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY);",
            "ALTER TABLE tickets ALTER COLUMN id TYPE bigint;",
            "tickets.id is an identity column",
        ),
        (
            "CREATE TABLE slots (id bigint PRIMARY KEY, during tstzrange,"
            " EXCLUDE USING gist (during WITH &&));",
            "ALTER TABLE slots RENAME COLUMN during TO period;",
            "slots.during is part of slots_during_excl (exclusion)",
        ),
    ],
    ids=["referenced-by-a-foreign-key", "identity", "exclusion"],
)
def test_expand_contract_refuses_what_it_cannot_carry_over(setup, source, reason):
    result = plain_fix(source + "\n", setup)
    assert [r for _, r in result.unfixable if reason in r], result.unfixable
    assert result.plans == []


PRISMA_USERS = (
    'CREATE TABLE "User" ("id" text PRIMARY KEY, "userName" text, "role" "Role");'
    ' CREATE INDEX "User_userName_idx" ON "User" ("userName");'
)
PRISMA_TYPES = "CREATE TYPE \"Role\" AS ENUM ('ADMIN', 'USER');"
PRISMA_USERS_SEED = (
    f"INSERT INTO \"User\" SELECT 'u' || g, 'name' || g, 'USER' FROM generate_series(1, {ROWS}) g"
)


@pytest.mark.parametrize("column", ["userName", "role"])
def test_prisma_rename_keeps_quoted_names_types_and_indexes(column, tmp_path, databases, pg_server):
    setup = PRISMA_TYPES + PRISMA_USERS
    source = f'ALTER TABLE "User" RENAME COLUMN "{column}" TO "renamed";\n'
    _, result = fix_on_disk(tmp_path, "prisma", source, setup, major(pg_server))
    assert not result.unfixable, result.unfixable
    original = run_original(databases, "prisma", source, setup, PRISMA_USERS_SEED, tmp_path)
    fixed = databases.database(setup, PRISMA_USERS_SEED)
    apply_fixed(fixed, result)
    read = 'SELECT "id", "renamed", ' + ('"role"' if column == "userName" else '"userName"')
    read += ' FROM "User" ORDER BY "id"'
    assert rows(fixed, read) == rows(original, read)
    assert schema_facts(fixed) == schema_facts(original)


# --- 4. primary key swaps and idempotent index builds ---------------------------------------

MEMBERS = (
    'CREATE TABLE "Member" ("teamId" int NOT NULL, "userId" int NOT NULL, note text,'
    ' CONSTRAINT "Member_pkey" PRIMARY KEY ("teamId"));'
)
MEMBERS_SEED = (
    f"INSERT INTO \"Member\" SELECT g, g % 10, 'n' || g FROM generate_series(1, {ROWS}) g"
)
SWAPS = {
    "one-statement": 'ALTER TABLE "Member" DROP CONSTRAINT "Member_pkey",\n'
    'ADD CONSTRAINT "Member_pkey" PRIMARY KEY ("teamId", "userId");\n',
    "two-statements": 'ALTER TABLE "Member" DROP CONSTRAINT "Member_pkey";\n'
    'ALTER TABLE "Member" ADD CONSTRAINT "Member_pkey" PRIMARY KEY ("teamId", "userId");\n',
}


@pytest.mark.parametrize("tool", ["prisma", "psql"])
@pytest.mark.parametrize("form", sorted(SWAPS))
def test_primary_key_swap_builds_the_new_index_before_the_old_key_goes(
    form, tool, tmp_path, databases, pg_server
):
    source = SWAPS[form]
    _, result = fix_on_disk(tmp_path, tool, source, MEMBERS, major(pg_server))
    assert "ZD106" in {f.code for f in result.fixed}, result.unfixable
    statements = [
        s.text
        for path in migration_files(result)
        for s in parse_statements(SourceText(path.read_text()))
    ]
    build = next(i for i, s in enumerate(statements) if "CREATE UNIQUE INDEX CONCURRENTLY" in s)
    drop = next(i for i, s in enumerate(statements) if "DROP CONSTRAINT" in s)
    attach = next(i for i, s in enumerate(statements) if "USING INDEX" in s)
    assert build < drop < attach and statements.count(statements[drop]) == 1
    original = run_original(databases, tool, source, MEMBERS, MEMBERS_SEED, tmp_path)
    fixed = databases.database(MEMBERS, MEMBERS_SEED)
    apply_fixed(fixed, result)
    assert schema_facts(fixed) == schema_facts(original)
    read = 'SELECT * FROM "Member" ORDER BY 1'
    assert rows(fixed, read) == rows(original, read)


def test_primary_key_swap_with_other_work_on_the_table_in_between_is_refused():
    source = (
        'ALTER TABLE "Member" DROP CONSTRAINT "Member_pkey";\n'
        'ALTER TABLE "Member" ADD COLUMN "role" text;\n'
        'ALTER TABLE "Member" ADD CONSTRAINT "Member_pkey" PRIMARY KEY ("teamId", "userId");\n'
    )
    reason = refusal(source, MEMBERS, "ZD106")
    assert "primary key of Member is dropped earlier in this migration" in reason


CODES = (
    "CREATE TABLE codes (id bigint PRIMARY KEY, code text, tag text);"
    " CREATE UNIQUE INDEX codes_code_key ON codes (code);"
    " CREATE TABLE uses (code text REFERENCES codes (code));"
)
CODES_SEED = (
    f"INSERT INTO codes SELECT g, 'c' || g, 't' || g FROM generate_series(1, {ROWS}) g;"
    " INSERT INTO uses SELECT 'c' || g FROM generate_series(1, 10) g"
)


def test_create_index_if_not_exists_of_an_existing_index_stays_a_no_op(
    tmp_path, databases, pg_server
):
    """The unique index backs a foreign key: dropping it to build it again would fail."""
    source = "CREATE UNIQUE INDEX IF NOT EXISTS codes_code_key ON codes (code);\n"
    _, result = fix_on_disk(tmp_path, "psql", source, CODES, major(pg_server))
    text = "".join(o.text for o in result.outputs)
    assert "DROP INDEX" not in text and "CONCURRENTLY IF NOT EXISTS codes_code_key" in text
    original = run_original(databases, "psql", source, CODES, CODES_SEED, tmp_path)
    fixed = databases.database(CODES, CODES_SEED)
    apply_fixed(fixed, result)
    apply_fixed(fixed, result)  # and again: idempotent
    assert schema_facts(fixed) == schema_facts(original)
    assert plain_fix(text, CODES).fixed == []


def test_create_index_if_not_exists_replaces_an_invalid_leftover_and_can_run_again(
    tmp_path, databases, pg_server
):
    source = "CREATE UNIQUE INDEX IF NOT EXISTS codes_tag_key ON codes (tag);\n"
    _, result = fix_on_disk(tmp_path, "psql", source, CODES, major(pg_server))
    original = run_original(databases, "psql", source, CODES, CODES_SEED, tmp_path)
    fixed = databases.database(CODES, CODES_SEED)
    # a failed concurrent build of an earlier attempt left an INVALID index of that name
    fixed.execute("UPDATE codes SET tag = 'same' WHERE id <= 2")
    with pytest.raises(psycopg.errors.UniqueViolation):
        fixed.execute("CREATE UNIQUE INDEX CONCURRENTLY codes_tag_key ON codes (tag)")
    fixed.execute("UPDATE codes SET tag = 't' || id WHERE id <= 2")
    apply_fixed(fixed, result)
    apply_fixed(fixed, result)
    assert schema_facts(fixed) == schema_facts(original)


def test_a_foreign_key_to_another_column_of_the_table_does_not_stop_the_rewrite():
    setup = (
        "CREATE TABLE person (id int PRIMARY KEY, actor_id text UNIQUE);"
        " CREATE TABLE post (id int PRIMARY KEY, creator_id int REFERENCES person,"
        " actor text REFERENCES person (actor_id));"
    )
    renamed = plain_fix("ALTER TABLE person RENAME COLUMN id TO person_id;\n", setup)
    assert [r for _, r in renamed.unfixable if "post.post_creator_id_fkey" in r]
    other = plain_fix("ALTER TABLE person RENAME COLUMN actor_id TO ap_id;\n", setup)
    assert [r for _, r in other.unfixable if "post.post_actor_fkey" in r]
    setup = setup.replace(", actor text REFERENCES person (actor_id)", "")
    other = plain_fix("ALTER TABLE person RENAME COLUMN actor_id TO ap_id;\n", setup)
    assert other.unfixable == [] and [p.rule for p in other.plans] == ["ZD302"]


def test_a_composite_primary_key_moves_to_the_renamed_column(tmp_path, databases, pg_server):
    setup = (
        'CREATE TABLE "Membership" ("teamId" text NOT NULL, "userId" text NOT NULL,'
        ' CONSTRAINT "Membership_pkey" PRIMARY KEY ("teamId", "userId"));'
    )
    seed = (
        "INSERT INTO \"Membership\" SELECT 't' || (g % 50), 'u' || g"
        f" FROM generate_series(1, {ROWS}) g"
    )
    source = 'ALTER TABLE "Membership" RENAME COLUMN "teamId" TO "organizationId";\n'
    _, result = fix_on_disk(tmp_path, "prisma", source, setup, major(pg_server))
    assert not result.unfixable, result.unfixable
    original = run_original(databases, "prisma", source, setup, seed, tmp_path)
    fixed = databases.database(setup, seed)
    apply_fixed(fixed, result)
    read = 'SELECT "organizationId", "userId" FROM "Membership" ORDER BY 1, 2'
    assert rows(fixed, read) == rows(original, read)
    assert schema_facts(fixed) == schema_facts(original)


def test_expand_contract_is_refused_when_later_statements_need_the_change_done():
    """Prisma's enum swap: the old type is renamed and dropped right after the ALTER,
    which fails while the old column (kept until the contract) still uses it."""
    setup = (
        "CREATE TYPE \"Kind\" AS ENUM ('A', 'B');"
        ' CREATE TABLE "Obs" ("id" text PRIMARY KEY, "type" "Kind" NOT NULL);'
    )
    source = (
        "CREATE TYPE \"Kind_new\" AS ENUM ('A', 'B', 'C');\n"
        'ALTER TABLE "Obs" ALTER COLUMN "type" TYPE "Kind_new" USING ("type"::text::"Kind_new");\n'
        'ALTER TYPE "Kind" RENAME TO "Kind_old";\n'
        'ALTER TYPE "Kind_new" RENAME TO "Kind";\n'
        'DROP TYPE "Kind_old";\n'
    )
    reason = refusal(source, setup, "ZD202")
    assert "a later statement of this migration (line 3) relies on Obs.type" in reason
    renamed = fix_source(
        'ALTER TABLE "Obs" RENAME COLUMN "type" TO "kind";\n'
        'CREATE INDEX "Obs_kind_idx" ON "Obs" ("kind");\n'
        'ALTER TABLE "Other" ADD COLUMN "type" int;\n',
        "change.sql",
        setup + ' CREATE TABLE "Other" (id int);',
        Settings(),
    )
    assert [p.rule for p in renamed.plans if p.rule == "ZD302"] == ["ZD302"]
    # a column added under the old name later in the file needs the rename done first
    reused = fix_source(
        'ALTER TABLE "Obs" RENAME COLUMN "type" TO "kind";\n'
        'ALTER TABLE "Obs" ADD COLUMN "type" varchar(150);\n',
        "change.sql",
        setup,
        Settings(),
    )
    reasons = {finding.code: reason for finding, reason in reused.unfixable}
    assert "a later statement of this migration (line 2) relies on Obs.type" in reasons["ZD302"]


def test_a_type_change_on_a_keyless_table_with_a_volatile_using_is_refused():
    setup = "CREATE TABLE logs (at text, body text);"
    source = (
        "ALTER TABLE logs ALTER COLUMN at TYPE timestamptz"
        " USING coalesce(at::timestamptz, now());\n"
    )
    reason = refusal(source, setup, "ZD202")
    assert "USING expression gives the same value when computed again" in reason
    plain = plain_fix(
        "ALTER TABLE logs ALTER COLUMN at TYPE timestamptz USING at::timestamptz;\n", setup
    )
    assert [p.rule for p in plain.plans] == ["ZD202"]


@pytest.mark.parametrize("tool", ["prisma", "golang-migrate"])
def test_a_rewrite_that_would_split_the_users_transaction_in_a_batch_file_is_refused(
    tool, tmp_path
):
    """The tool sends the file as one batch: steps outside the transaction would go to
    later migrations, leaving BEGIN in the first and COMMIT in a later one."""
    source = "BEGIN;\nUPDATE users SET fullname = 'x' WHERE fullname IS NULL;\nCOMMIT;\n"
    _, result = fix_on_disk(tmp_path, tool, source, USERS, 15)
    (reason,) = [r for f, r in result.unfixable if f.code == "ZD501"]
    assert "inside BEGIN … COMMIT" in reason and "move it after the COMMIT" in reason
    assert not result.plans


def test_rows_the_old_version_writes_while_the_batches_copy_are_kept(
    tmp_path, databases, pg_server
):
    """A writer inserts and updates through the old column while the CALL runs: once it
    returns, every row's new column holds its old value, and the contract loses none."""
    import threading

    source = "ALTER TABLE accounts ALTER COLUMN score TYPE bigint;\n"
    _, result = fix_on_disk(tmp_path, "diesel", source, ACCOUNTS, major(pg_server))
    files = migration_files(result)
    call = next(i for i, p in enumerate(files) if p.read_text().count("CALL ") == 1)
    fixed = databases.database(ACCOUNTS, ACCOUNTS_SEED)
    for path in files[:call]:
        run_as_tool(fixed, path)
    stop, written, failed = threading.Event(), [0], []

    def old_version() -> None:
        with psycopg.connect(fixed.info.dsn, autocommit=True) as writer:
            try:
                while not stop.is_set():
                    code = f"w{written[0]}"
                    writer.execute("INSERT INTO accounts (code, score) VALUES (%s, 5)", (code,))
                    written[0] += 1
                    writer.execute(
                        "UPDATE accounts SET score = score + 1"
                        " WHERE id = 1 + (random() * 2000)::int"
                    )
            except psycopg.Error as exc:
                failed.append(exc)

    thread = threading.Thread(target=old_version)
    thread.start()
    try:
        run_as_tool(fixed, files[call])
    finally:
        stop.set()
        thread.join()
    assert written[0] > 0 and failed == []
    assert rows(fixed, "SELECT count(*) FROM accounts WHERE score_new IS DISTINCT FROM score") == [
        (0,)
    ]
    before = rows(fixed, "SELECT count(*), sum(score) FROM accounts")
    for path in files[call + 1 :]:
        run_as_tool(fixed, path)
    assert rows(fixed, "SELECT count(*), sum(score) FROM accounts") == before
    assert before[0][0] == ROWS + written[0]


ACCOUNTS_DUMPED = """
CREATE TABLE public.accounts (id integer NOT NULL, code character varying(20) NOT NULL);
CREATE SEQUENCE public.accounts_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE
  NO MAXVALUE CACHE 1;
ALTER SEQUENCE public.accounts_id_seq OWNED BY public.accounts.id;
ALTER TABLE ONLY public.accounts ALTER COLUMN id SET DEFAULT
  nextval('public.accounts_id_seq'::regclass);
ALTER TABLE ONLY public.accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY (id);
"""


def test_a_sequence_known_from_a_pg_dump_schema_moves_with_the_key(tmp_path, databases, pg_server):
    """pg_dump writes serial as a sequence, OWNED BY and a nextval default."""
    source = "ALTER TABLE accounts ALTER COLUMN id TYPE bigint;\n"
    seed = f"INSERT INTO accounts (code) SELECT 'c' || g FROM generate_series(1, {ROWS}) g"
    _, result = fix_on_disk(tmp_path, "diesel", source, ACCOUNTS_DUMPED, major(pg_server))
    assert not result.unfixable, result.unfixable
    original = run_original(databases, "diesel", source, ACCOUNTS_DUMPED, seed, tmp_path)
    fixed = databases.database(ACCOUNTS_DUMPED, seed)
    apply_fixed(fixed, result)
    assert schema_facts(fixed) == schema_facts(original)
    insert = "INSERT INTO accounts (code) VALUES ('after') RETURNING id"
    assert rows(fixed, insert) == rows(original, insert) == [(ROWS + 1,)]
