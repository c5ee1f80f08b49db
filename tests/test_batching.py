"""ZD501/ZD502 decide "bounded" from the schema model: a key lookup pins every column of a
primary key, unique constraint or complete unique index; names only when the table is
unknown; `col = rec.x` inside a PL/pgSQL loop is one iteration's rows."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import lint_after

T = "SET lock_timeout = '3s';\n"
ACCOUNTS = (
    "CREATE TABLE accounts (id bigint PRIMARY KEY, handle text, org_id bigint, region text,"
    " email text, note text);\n"
)


def check(history: str, sql: str, **settings: Any) -> list[str]:
    """Codes for `sql` checked after `history`, an earlier migration in the same folder."""
    return [f.code for f in lint_after(history, T + sql, **settings)]


@pytest.mark.parametrize(
    ("extra_ddl", "where", "expected"),
    [
        # the primary key, whatever its name
        ("", "id = 7", []),
        ("", "id = ANY($1)", []),
        ("", "id IN (1, 2, 3)", []),
        ("", "accounts.id = 7 AND note IS NULL", []),
        # a column whose name looks like a key is not one
        ("", "org_id = 7", ["ZD501"]),
        ("", "id = 7 OR id = 8", ["ZD501"]),
        # a unique constraint or unique index, whatever the column is called
        (
            "ALTER TABLE accounts ADD CONSTRAINT accounts_handle_key UNIQUE (handle);\n",
            "handle = 'ann'",
            [],
        ),
        ("CREATE UNIQUE INDEX accounts_email ON accounts (email);\n", "email = $1", []),
        (
            "CREATE UNIQUE INDEX accounts_email ON accounts (email);\n",
            "email IN ('a@x', 'b@x')",
            [],
        ),
        # a composite key must be fully covered
        (
            "CREATE UNIQUE INDEX accounts_org_handle ON accounts (org_id, handle);\n",
            "org_id = 1 AND handle = 'ann'",
            [],
        ),
        (
            "CREATE UNIQUE INDEX accounts_org_handle ON accounts (org_id, handle);\n",
            "org_id = 1",
            ["ZD501"],
        ),
        # a partial or expression unique index identifies no row of the whole table
        (
            "CREATE UNIQUE INDEX accounts_live_email ON accounts (email) WHERE note IS NULL;\n",
            "email = $1",
            ["ZD501"],
        ),
        (
            "CREATE UNIQUE INDEX accounts_region_email ON accounts (region, lower(email));\n",
            "region = 'eu'",
            ["ZD501"],
        ),
        # an index that is not unique is no key
        ("CREATE INDEX accounts_handle ON accounts (handle);\n", "handle = 'ann'", ["ZD501"]),
        # the value must be one value, not another table's column or a sub-select
        ("", "id = (SELECT max(id) FROM accounts)", ["ZD501"]),
        ("", "id IN (SELECT account_id FROM bans)", ["ZD501"]),
    ],
)
def test_a_key_lookup_is_read_from_the_schema(extra_ddl, where, expected):
    assert check(ACCOUNTS + extra_ddl, f"UPDATE accounts SET note = 'x' WHERE {where};") == expected


def test_a_join_on_the_key_is_not_a_lookup():
    sql = "UPDATE accounts a SET note = b.reason FROM bans b WHERE a.id = b.account_id;"
    assert check(ACCOUNTS, sql) == ["ZD501"]


def test_an_alias_hides_the_table_name_and_names_its_columns():
    assert check(ACCOUNTS, "DELETE FROM accounts AS a WHERE a.id = 3;") == []


def test_a_renamed_key_column_is_still_the_key():
    history = ACCOUNTS + "ALTER TABLE accounts RENAME COLUMN id TO account_no;\n"
    assert check(history, "DELETE FROM accounts WHERE account_no = 3;") == []


def test_a_partition_has_the_keys_of_its_partitioned_table():
    history = (
        "CREATE TABLE events (id bigint, day date, note text, PRIMARY KEY (id, day))"
        " PARTITION BY RANGE (day);\n"
        "CREATE TABLE events_2024 PARTITION OF events"
        " FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n"
    )
    sql = "UPDATE events_2024 SET note = 'x' WHERE id = 1 AND day = '2024-05-01';"
    assert check(history, sql) == []
    assert check(history, "UPDATE events_2024 SET note = 'x' WHERE id = 1;") == ["ZD501"]


def test_a_dropped_primary_key_no_longer_bounds_a_lookup():
    history = ACCOUNTS + "ALTER TABLE accounts DROP CONSTRAINT accounts_pkey;\n"
    assert check(history, "DELETE FROM accounts WHERE id = 3;") == ["ZD502"]


@pytest.mark.parametrize(
    ("where", "expected"),
    [("id = 7", []), ("account_id = 7", []), ("handle = 'ann'", ["ZD501"])],
)
def test_names_stand_in_for_keys_only_when_the_schema_does_not_know_the_table(where, expected):
    # `legacy` was created before the replayed history: only ALTERed there
    history = "ALTER TABLE legacy ADD COLUMN note text;\n"
    assert check(history, f"UPDATE legacy SET note = 'x' WHERE {where};") == expected


LOOP = """DO $$
DECLARE rec record;
BEGIN
  FOR rec IN SELECT id, org_id FROM accounts LOOP
    {statement}
  END LOOP;
END $$;
"""


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("UPDATE accounts SET note = 'x' WHERE id = rec.id;", []),
        ("DELETE FROM members WHERE org_id = rec.org_id;", []),
        ("UPDATE members SET note = 'x' WHERE members.org_id = rec.org_id + 0;", []),
        ("UPDATE accounts SET note = 'x' WHERE note IS NULL;", ["ZD501"]),
        ("UPDATE accounts SET note = 'x' WHERE region = 'eu';", ["ZD501"]),
    ],
)
def test_a_statement_in_a_plpgsql_loop_compared_with_the_loop_row_is_one_iterations_rows(
    statement, expected
):
    history = ACCOUNTS + "CREATE TABLE members (org_id bigint, note text);\n"
    assert check(history, LOOP.format(statement=statement)) == expected


def test_a_plpgsql_variable_outside_a_loop_pins_a_key_but_not_any_column():
    body = (
        "DO $$\nDECLARE v_id bigint := 3;\nBEGIN\n"
        "  UPDATE accounts SET note = 'x' WHERE id = v_id;\n"
        "  UPDATE accounts SET note = 'y' WHERE org_id = v_id;\n"
        "END $$;\n"
    )
    assert check(ACCOUNTS, body) == ["ZD501"]


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE pg_index SET indisready = false WHERE indrelid = 'accounts'::regclass;",
        "UPDATE pg_catalog.pg_index SET indisready = true WHERE indrelid = 'accounts'::regclass;",
    ],
)
def test_a_system_catalog_row_update_is_no_backfill(sql):
    assert check(ACCOUNTS, sql) == []


def test_a_table_of_the_users_own_named_pg_something_is_checked():
    history = "CREATE TABLE pg_jobs (id bigint PRIMARY KEY, state text);\n"
    assert check(history, "UPDATE pg_jobs SET state = 'x';") == ["ZD501"]


@pytest.mark.parametrize(
    ("where", "expected"), [("id = 7", []), ("org_id = 7", ["ZD410", "ZD501"])]
)
def test_the_statement_timeout_rule_agrees_on_what_is_bounded(where, expected):
    # ZD410 (opt-in) asks for a statement_timeout around long data changes
    sql = f"UPDATE accounts SET note = 'x' WHERE {where};"
    assert sorted(check(ACCOUNTS, sql, extend_select=("ZD410",))) == expected
