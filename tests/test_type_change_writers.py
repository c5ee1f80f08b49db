"""ZD312: a column's new type must accept the values the running version still writes,
as PostgreSQL's implicit and assignment casts (pg_cast, generated into pg_casts.txt)
decide."""

from __future__ import annotations

import psycopg
import pytest

from tests.support import lint, lint_after
from zdlint.sql.casts import CASTS_QUERY, SKIPPED_TYPES, TYPES_QUERY, assignment_casts

T = "SET lock_timeout = '2s';\n"


def zd312(history: str, change: str) -> list[str]:
    return [f.message for f in lint_after(history, T + change) if f.code == "ZD312"]


def test_the_cast_facts_match_pg_cast_on_a_real_server(pg_server):
    """Every built-in type is listed, with exactly its implicit and assignment casts."""
    with psycopg.connect(pg_server.dsn()) as conn:
        types = {name for (name,) in conn.execute(TYPES_QUERY)} - SKIPPED_TYPES
        casts = [(s, t) for s, t in conn.execute(CASTS_QUERY) if {s, t} <= types]
    expected = {name: {t for s, t in casts if s == name} for name in types}
    assert {name: set(targets) for name, targets in assignment_casts().items()} == expected


# (old type, new type [USING], a value of the old type as the running version sends it,
# whether its INSERT fails after the change)
TYPED_WRITES = [
    ("timestamp", "boolean USING c IS NOT NULL", "now()::timestamp", True),
    ("text", "jsonb USING c::jsonb", "'{}'::text", True),
    ("integer", "bigint", "1::integer", False),
    ("timestamp", "timestamptz", "now()::timestamp", False),
    ("jsonb", "text", "'{}'::jsonb", False),
]


@pytest.mark.parametrize(("old", "new", "value", "fails"), TYPED_WRITES)
def test_the_running_versions_typed_writes_fail_exactly_when_zd312_says(
    pg_conn, old, new, value, fails
):
    """What the old version sends keeps its old type: on a real server, its INSERT after
    the change fails exactly for the changes ZD312 reports."""
    history = f"CREATE TABLE t (id int, c {old});"
    change = f"ALTER TABLE t ALTER COLUMN c TYPE {new};"
    pg_conn.execute(history)
    pg_conn.execute(change)
    try:
        pg_conn.execute(f"INSERT INTO t (id, c) VALUES (1, {value})")
        failed = False
    except psycopg.errors.DatatypeMismatch:
        failed = True
    assert failed == fails
    assert bool(zd312(history, change)) == fails


@pytest.mark.parametrize(
    ("source", "targets"),
    [("int4", {"int8", "numeric", "float8"}), ("int8", {"int4"}), ("timestamp", {"timestamptz"})],
)
def test_the_facts_know_the_casts_migrations_rely_on(source, targets):
    assert targets <= assignment_casts()[source]


def test_timestamp_to_boolean_breaks_the_running_versions_writes():
    assert zd312(
        "CREATE TABLE users (id int PRIMARY KEY, email_verified timestamp(3));",
        "ALTER TABLE users ALTER COLUMN email_verified SET DATA TYPE boolean"
        " USING email_verified IS NOT NULL;",
    ) == [
        "Changing `users.email_verified` from timestamp(3) without time zone to boolean breaks"
        " the running version: PostgreSQL cannot assign its timestamp(3) without time zone"
        " values to boolean, so its INSERTs and UPDATEs of `email_verified` fail from COMMIT on"
    ]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("text", "jsonb"),
        ("text", "integer"),
        ("varchar(20)", "uuid"),
        ("integer", "boolean"),
        ("jsonb", "integer"),
        ("date", "time"),
        ("integer", "integer[]"),
        ("text[]", "jsonb"),
        ("integer[]", "uuid[]"),
        ('"Role"', "integer"),
    ],
)
def test_a_type_without_an_assignment_cast_is_flagged(old, new):
    history = "CREATE TYPE \"Role\" AS ENUM ('a', 'b');\n" + f"CREATE TABLE t (id int, c {old});"
    assert len(zd312(history, f"ALTER TABLE t ALTER COLUMN c TYPE {new} USING NULL;")) == 1


def test_a_builtin_type_to_an_enum_is_flagged():
    history = "CREATE TABLE t (id int, show_downvotes boolean NOT NULL DEFAULT true);"
    change = (
        "CREATE TYPE vote_show AS ENUM ('show', 'hide');\n"
        "ALTER TABLE t ALTER COLUMN show_downvotes DROP DEFAULT;\n"
        "ALTER TABLE t ALTER COLUMN show_downvotes TYPE vote_show"
        " USING CASE WHEN show_downvotes THEN 'show'::vote_show ELSE 'hide'::vote_show END;\n"
    )
    (message,) = zd312(history, change)
    assert "from boolean to vote_show" in message


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("integer", "bigint"),
        ("bigint", "integer"),  # an assignment cast: it fails only on values out of range
        ("numeric(10,2)", "double precision"),
        ("double precision", "numeric"),
        ("date", "timestamp"),
        ("timestamp", "timestamptz"),
        ("timestamptz", "timestamp(3)"),
        ("varchar(20)", "text"),
        ("varchar(20)", "varchar(10)"),  # a typmod change: ZD202's business
        ("integer", "text"),  # every type is assigned to a string type
        ("jsonb", "varchar(200)"),
        ("boolean", "char(1)"),
        ('"Role"', "text"),
        ("integer[]", "bigint[]"),
        ("integer[]", "text"),
        ("text", "citext"),
        ("text", "email"),  # a domain: its casts are not known
        ("point", "box"),  # an implicit cast between geometric types
    ],
)
def test_an_assignable_or_unknown_type_change_is_quiet(old, new):
    history = (
        "CREATE TYPE \"Role\" AS ENUM ('a', 'b');\nCREATE DOMAIN email AS text;\n"
        f"CREATE TABLE t (id int, c {old});"
    )
    assert zd312(history, f"ALTER TABLE t ALTER COLUMN c TYPE {new};") == []


def test_an_enum_replaced_by_a_new_enum_is_left_to_zd306():
    history = "CREATE TYPE \"Role\" AS ENUM ('a', 'b');\nCREATE TABLE t (id int, c \"Role\");"
    change = (
        "BEGIN;\nCREATE TYPE \"Role_new\" AS ENUM ('a');\n"
        'ALTER TABLE t ALTER COLUMN c TYPE "Role_new" USING (c::text::"Role_new");\n'
        'ALTER TYPE "Role" RENAME TO "Role_old";\nALTER TYPE "Role_new" RENAME TO "Role";\n'
        'DROP TYPE "Role_old";\nCOMMIT;\n'
    )
    assert zd312(history, change) == []


def test_a_column_the_running_version_does_not_know_is_quiet():
    history = "CREATE TABLE t (id int);"
    added = (
        "ALTER TABLE t ADD COLUMN c text;\nALTER TABLE t ALTER COLUMN c TYPE jsonb USING c::jsonb;"
    )
    assert zd312(history, added) == []
    new_table = "CREATE TABLE n (c text);\nALTER TABLE n ALTER COLUMN c TYPE jsonb USING c::jsonb;"
    assert zd312(history, new_table) == []


def test_an_unknown_current_type_is_quiet():
    sql = T + "ALTER TABLE t ALTER COLUMN c TYPE jsonb USING c::jsonb;"
    assert [f.code for f in lint(sql)] == ["ZD202"]


def test_the_rewrite_comes_before_the_broken_writers_on_one_statement():
    findings = lint_after(
        "CREATE TABLE t (id int, c text);",
        T + "ALTER TABLE t ALTER COLUMN c TYPE jsonb USING c::jsonb;",
    )
    assert [f.code for f in findings] == ["ZD202", "ZD312"]
