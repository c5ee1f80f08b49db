"""Constraints written on a column added to an existing table (`ADD COLUMN c … UNIQUE`):
PostgreSQL builds the index or checks every row under ACCESS EXCLUSIVE, as for ADD
CONSTRAINT (measured with `zdlint trace`: `ADD COLUMN c int CHECK (c > 0)` scans the
table although the new column is NULL in every row)."""

from __future__ import annotations

import pytest

from tests.fix_support import fix_source
from tests.support import lint

T = "SET lock_timeout = '3s';\n"
SETUP = "CREATE TABLE t (id bigint PRIMARY KEY, a int);"


def test_unique_on_a_new_column_builds_its_index_under_access_exclusive():
    (finding,) = lint(T + "ALTER TABLE t ADD COLUMN c int UNIQUE;\n")
    assert finding.code == "ZD106"
    assert "UNIQUE `t_c_key`" in finding.message and "ACCESS EXCLUSIVE" in finding.message
    assert finding.help == (
        "Add the column c without UNIQUE, then build the index with "
        "`CREATE UNIQUE INDEX CONCURRENTLY t_c_key ON t (c);` outside a transaction, "
        "then `ALTER TABLE t ADD CONSTRAINT t_c_key UNIQUE USING INDEX t_c_key;`"
    )


def test_primary_key_on_a_new_column_says_to_fill_it_first():
    # ZD301 says the other hazard: a primary key is NOT NULL, and the column has no default.
    finding, not_null = lint(T + "ALTER TABLE t ADD COLUMN k bigint CONSTRAINT t_k PRIMARY KEY;\n")
    assert (finding.code, not_null.code) == ("ZD106", "ZD301")
    assert "PRIMARY KEY `t_k`" in finding.message
    assert finding.help.startswith("Add the column k without PRIMARY KEY and fill it, then ")


def test_check_on_a_new_column_scans_every_row():
    (finding,) = lint(T + "ALTER TABLE t ADD COLUMN c int CHECK (c > 0);\n")
    assert finding.code == "ZD104" and "`t_c_check`" in finding.message
    assert finding.help == (
        "Add the column c without the CHECK, then the CHECK NOT VALID with "
        "`ALTER TABLE t ADD CONSTRAINT t_c_check CHECK (c > 0) NOT VALID;`, "
        "then run `ALTER TABLE t VALIDATE CONSTRAINT t_c_check;` in a separate transaction"
    )


@pytest.mark.parametrize(
    "column",
    [
        "c int NOT NULL DEFAULT 0",
        "c int DEFAULT 0",
        "c int NULL",
    ],
)
def test_constraints_that_neither_index_nor_check_rows_are_quiet(column):
    assert lint(T + f"ALTER TABLE t ADD COLUMN {column};\n") == []


def test_column_constraints_on_a_table_created_in_the_file_are_quiet():
    sql = "CREATE TABLE n (id int);\nALTER TABLE n ADD COLUMN c int UNIQUE CHECK (c > 0);\n"
    assert lint(sql) == []


def test_inline_references_are_left_to_the_foreign_key_rules():
    codes = [f.code for f in lint(T + "ALTER TABLE t ADD COLUMN u bigint REFERENCES u;\n")]
    assert "ZD104" not in codes and "ZD106" not in codes


def test_unique_and_check_on_one_new_column_are_both_reported():
    codes = [f.code for f in lint(T + "ALTER TABLE t ADD COLUMN c int UNIQUE CHECK (c > 0);\n")]
    assert codes == ["ZD104", "ZD106"]


def _fixed(sql: str) -> list[str]:
    result = fix_source(T + sql, setup=SETUP)
    return [line for line in result.outputs[0].text.splitlines() if line != T.strip()]


def test_fix_moves_a_named_check_off_the_column_keeping_the_rest_of_it():
    sql = 'ALTER TABLE t ADD COLUMN c text CONSTRAINT c_short CHECK (length(c) < 9) COLLATE "C";\n'
    assert _fixed(sql) == [
        "BEGIN;",
        'ALTER TABLE t ADD COLUMN c text COLLATE "C";',
        "ALTER TABLE t ADD CONSTRAINT c_short CHECK (length(c) < 9) NOT VALID;",
        "COMMIT;",
        "ALTER TABLE t VALIDATE CONSTRAINT c_short;",
    ]


def test_fix_builds_the_index_of_a_unique_column_concurrently():
    assert _fixed(
        "ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0 UNIQUE NULLS NOT DISTINCT;\n"
    ) == [
        "ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0;",
        "DROP INDEX CONCURRENTLY IF EXISTS t_c_key;",
        "CREATE UNIQUE INDEX CONCURRENTLY t_c_key ON t (c) NULLS NOT DISTINCT;",
        "ALTER TABLE t ADD CONSTRAINT t_c_key UNIQUE USING INDEX t_c_key;",
    ]


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("ALTER TABLE t ADD COLUMN k bigint PRIMARY KEY;", "needs a value in every row"),
        ("ALTER TABLE t ADD COLUMN c int UNIQUE DEFERRABLE;", "DEFERRABLE"),
    ],
)
def test_fix_leaves_what_it_cannot_rewrite_safely(sql, reason):
    result = fix_source(T + sql + "\n", setup=SETUP)
    assert not result.changed
    assert [(f.code, why) for f, why in result.unfixable if reason in why][0][0] == "ZD106"
