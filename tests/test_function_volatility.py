"""Which DEFAULT expressions are volatile: pg_proc facts for built-ins, CREATE FUNCTION
markers for the user's functions, VOLATILE for any function nobody declared."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.support import codes, lint
from zdlint.catalogue import load_catalogue
from zdlint.config import Settings
from zdlint.lint import lint_paths
from zdlint.sql.volatility import builtin_volatility

T = "SET lock_timeout = '3s';\n"


def test_the_builtin_facts_match_pg_proc_on_a_real_server(pg_server):
    """Every pg_catalog function of the running server is listed with each volatility its
    overloads have (the file is the union over the versions it was generated from)."""
    with psycopg.connect(pg_server.dsn()) as conn:
        rows = conn.execute(
            "SELECT p.proname, p.provolatile FROM pg_proc p JOIN pg_namespace n"
            " ON n.oid = p.pronamespace WHERE n.nspname = 'pg_catalog'"
        ).fetchall()
    facts = builtin_volatility()
    missing = sorted({name for name, _ in rows if name not in facts})
    wrong = sorted(
        {f"{name} {letter}" for name, letter in rows if letter not in facts.get(name, letter)}
    )
    assert not missing and not wrong, (missing[:20], wrong[:20])
    assert len(facts) >= len({name for name, _ in rows})


@pytest.mark.parametrize(
    ("name", "letter"),
    [
        ("now", "s"),
        ("statement_timestamp", "s"),
        ("transaction_timestamp", "s"),
        ("txid_current", "s"),
        ("current_setting", "s"),
        ("lower", "i"),
        ("gen_random_uuid", "v"),
        ("clock_timestamp", "v"),
        ("nextval", "v"),
        ("currval", "v"),
        ("lastval", "v"),
    ],
)
def test_the_facts_file_knows_the_functions_defaults_use(name, letter):
    assert builtin_volatility()[name] == letter


@pytest.mark.parametrize(
    "default",
    [
        "statement_timestamp()",
        "transaction_timestamp()",
        "txid_current()",
        "current_setting('app.tenant')",
        "now() + interval '1 day'",
        "lower('A')",
        "CURRENT_TIMESTAMP",
    ],
)
def test_a_stable_or_immutable_builtin_default_adds_the_column_without_a_rewrite(default):
    assert codes(T + f"ALTER TABLE t ADD COLUMN c text DEFAULT {default};") == []


@pytest.mark.parametrize(
    ("default", "named"),
    [
        ("currval('t_id_seq')", "currval()"),
        ("lastval()", "lastval()"),
        ("gen_random_uuid()::text", "gen_random_uuid()"),
        ("md5(random()::text)", "random()"),
        ("generate_id()", "generate_id()"),  # nobody declared it: VOLATILE, as CREATE FUNCTION
        ("pg_catalog.clock_timestamp()", "clock_timestamp()"),
    ],
)
def test_a_volatile_default_rewrites_the_table(default, named):
    (finding,) = lint(T + f"ALTER TABLE t ADD COLUMN c text DEFAULT {default};")
    assert finding.code == "ZD201"
    assert f"the default {named} is volatile" in finding.message


@pytest.mark.parametrize(
    ("marker", "expected"),
    [("IMMUTABLE", []), ("STABLE", []), ("VOLATILE", ["ZD201"]), ("", ["ZD201"])],
)
def test_a_user_function_default_is_as_volatile_as_its_create_function_says(marker, expected):
    sql = T + (
        f"CREATE FUNCTION tenant() RETURNS text LANGUAGE sql {marker} AS $$ SELECT 'a' $$;\n"
        "ALTER TABLE t ADD COLUMN c text DEFAULT tenant();\n"
    )
    assert codes(sql) == expected


def test_alter_function_changes_the_volatility_later_defaults_see():
    sql = T + (
        "CREATE FUNCTION tenant() RETURNS text LANGUAGE sql AS $$ SELECT 'a' $$;\n"
        "ALTER FUNCTION tenant() STABLE;\n"
        "ALTER TABLE t ADD COLUMN c text DEFAULT tenant();\n"
    )
    assert codes(sql) == []


def test_a_dropped_user_function_is_no_longer_known():
    sql = T + (
        "CREATE FUNCTION tenant() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'a' $$;\n"
        "DROP FUNCTION tenant();\n"
        "CREATE FUNCTION tenant() RETURNS text LANGUAGE sql AS $$ SELECT 'b' $$;\n"
        "ALTER TABLE t ADD COLUMN c text DEFAULT tenant();\n"
    )
    assert codes(sql) == ["ZD201"]


def test_a_function_from_an_earlier_migration_or_the_schema_seed_is_known(tmp_path: Path):
    seed = tmp_path / "schema.sql"
    seed.write_text(
        "CREATE FUNCTION public.short_id() RETURNS text LANGUAGE sql STABLE AS $$ SELECT 'x' $$;\n"
    )
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "1.sql").write_text(
        "CREATE FUNCTION slug() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 's' $$;\n"
    )
    target = folder / "2.sql"
    target.write_text(
        T
        + "ALTER TABLE t ADD COLUMN a text DEFAULT slug(), ADD COLUMN b text DEFAULT short_id();\n"
    )
    run = lint_paths([str(target)], Settings(schema=seed), load_catalogue())
    assert run.reports[0].findings == ()
    run = lint_paths([str(target)], Settings(), load_catalogue())
    assert [f.message for f in run.reports[0].findings if f.code == "ZD201"] == [
        "Adding column `t.b` rewrites the whole table under ACCESS EXCLUSIVE, which blocks "
        "reads and writes: the default short_id() is volatile and computed for every row"
    ]
