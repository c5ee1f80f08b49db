"""Each PostgreSQL version boundary the hazard rules use, checked on both sides."""

from __future__ import annotations

import psycopg
import pytest

from tests.support import codes, lint, lint_after
from zdlint.versions import (
    DETACH_CONCURRENTLY,
    DETACH_FINALIZE,
    FEATURES,
    NOT_NULL_TABLE_CONSTRAINT,
    NOT_VALID_FOREIGN_KEY_ON_PARTITIONED_TABLE,
    REINDEX_CONCURRENTLY,
    STORED_GENERATED_COLUMN,
    SUPPORTED_PG_VERSIONS,
    VIRTUAL_GENERATED_COLUMN,
)

T = "SET lock_timeout = '3s';\n"


@pytest.mark.parametrize(("version", "expected"), [(11, ["ZD405"]), (12, [])])
def test_enum_add_value_in_a_transaction_fails_only_up_to_11(version, expected):
    sql = "BEGIN;\nALTER TYPE status ADD VALUE 'archived';\nCOMMIT;\n"
    assert codes(sql, pg_version=version) == expected


def test_enum_add_value_on_a_type_created_in_the_file_is_allowed_on_11():
    sql = "BEGIN;\nCREATE TYPE s AS ENUM ('a');\nALTER TYPE s ADD VALUE 'b';\nCOMMIT;\n"
    assert codes(sql, pg_version=11) == []


@pytest.mark.parametrize(("version", "expected"), [(11, []), (12, ["ZD110"])])
def test_reindex_concurrently_is_advised_from_12(version, expected):
    assert codes(T + "REINDEX INDEX orders_pkey;", pg_version=version) == expected


VERSIONS = list(SUPPORTED_PG_VERSIONS)


def _gate(since: int, before: list[str], after: list[str]) -> list[tuple[int, list[str]]]:
    return [(v, before if v < since else after) for v in VERSIONS]


@pytest.mark.parametrize(("version", "expected"), _gate(12, ["ZD207"], []))
def test_reindex_concurrently_fails_before_12(version, expected):
    sql = T + "REINDEX INDEX CONCURRENTLY orders_pkey;"
    assert codes(sql, pg_version=version) == expected


def test_reindex_concurrently_on_11_is_told_what_runs_there():
    (finding,) = lint(T + "REINDEX TABLE CONCURRENTLY orders;", pg_version=11)
    assert finding.message == (
        "REINDEX … CONCURRENTLY needs PostgreSQL 12: on PostgreSQL 11 (the --pg-version "
        "target) this statement fails"
    )
    assert "build a replacement index concurrently" in finding.help
    assert "REINDEX" not in finding.help


@pytest.mark.parametrize(("version", "expected"), _gate(14, ["ZD207"], []))
@pytest.mark.parametrize("form", ["CONCURRENTLY", "FINALIZE"])
def test_detach_concurrently_and_finalize_fail_before_14(version, expected, form):
    sql = T + f"ALTER TABLE p DETACH PARTITION p_2023 {form};"
    assert codes(sql, pg_version=version) == expected


@pytest.mark.parametrize(
    ("version", "expected"), [(11, ["ZD207"]), *[(v, ["ZD206"]) for v in VERSIONS if v >= 12]]
)
def test_stored_generated_columns_exist_from_12_and_rewrite(version, expected):
    sql = T + "ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a * 2) STORED;"
    assert codes(sql, pg_version=version) == expected


@pytest.mark.parametrize(("version", "expected"), _gate(18, ["ZD207"], []))
@pytest.mark.parametrize("kind", ["", " VIRTUAL"])
def test_virtual_generated_columns_fail_before_18_and_are_free_from_18(version, expected, kind):
    # before 18 a generated column must say STORED; from 18 VIRTUAL is the default
    sql = T + f"ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a * 2){kind};"
    assert codes(sql, pg_version=version) == expected


@pytest.mark.parametrize(("version", "expected"), _gate(18, ["ZD207"], []))
def test_a_named_not_null_table_constraint_fails_before_18(version, expected):
    sql = T + "ALTER TABLE users ADD CONSTRAINT users_email_nn NOT NULL email NOT VALID;"
    assert codes(sql, pg_version=version) == expected


@pytest.mark.parametrize(("version", "rewrites"), [(v, v < 12) for v in VERSIONS])
@pytest.mark.parametrize(
    ("old", "new"), [("timestamp", "timestamptz"), ("timestamptz", "timestamp")]
)
def test_timestamp_and_timestamptz_relabel_only_from_12_even_in_utc(version, rewrites, old, new):
    history = f"CREATE TABLE e (at {old});\n"
    change = T + f"ALTER TABLE e ALTER COLUMN at TYPE {new};"
    found = [f.code for f in lint_after(history, change, pg_version=version)]
    assert found == (["ZD202"] if rewrites else [])


def test_set_not_null_message_explains_the_scan_before_12_and_the_shortcut_from_12():
    proof = (
        "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE users VALIDATE CONSTRAINT c;\n"
    )
    sql = T + proof + "ALTER TABLE users ALTER COLUMN email SET NOT NULL;"
    (old,) = lint(sql, pg_version=11)
    assert "before PostgreSQL 12 it scans even when a validated CHECK" in old.message
    assert "keep the validated CHECK in its place until you upgrade" in old.help
    assert "SET NOT NULL" not in old.help
    assert codes(sql, pg_version=12) == []
    (bare,) = lint(T + "ALTER TABLE users ALTER COLUMN email SET NOT NULL;", pg_version=12)
    assert "before PostgreSQL 12" not in bare.message
    assert bare.help.endswith(
        ", then `ALTER TABLE users ALTER COLUMN email SET NOT NULL;` (no scan from PostgreSQL 12)"
    )


@pytest.mark.parametrize(("version", "expected"), [(13, []), (14, ["ZD108"])])
def test_detach_concurrently_is_advised_from_14(version, expected):
    assert codes(T + "ALTER TABLE p DETACH PARTITION p_2023;", pg_version=version) == expected


@pytest.mark.parametrize(("version", "expected"), [(17, ["ZD406"]), (18, [])])
def test_a_label_added_to_a_type_created_in_the_transaction_is_usable_from_18(version, expected):
    sql = T + (
        "BEGIN;\nCREATE TYPE s AS ENUM ('a');\nALTER TYPE s ADD VALUE 'b';\n"
        "CREATE TABLE n (v s DEFAULT 'b');\nCOMMIT;\n"
    )
    assert codes(sql, pg_version=version) == expected


def test_pg18_not_null_not_valid_then_validate_makes_set_not_null_safe():
    sql = T + (
        "ALTER TABLE users ADD CONSTRAINT users_email_nn NOT NULL email NOT VALID;\n"
        "ALTER TABLE users VALIDATE CONSTRAINT users_email_nn;\n"
        "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n"
    )
    assert codes(sql, pg_version=18) == []


def test_pg18_not_null_constraint_added_valid_scans_like_set_not_null():
    sql = T + "ALTER TABLE users ADD CONSTRAINT users_email_nn NOT NULL email;"
    (finding,) = lint(sql, pg_version=18)
    assert finding.code == "ZD101" and "`users.email`" in finding.message
    assert codes(sql.replace("email;", "email NOT VALID;"), pg_version=18) == []


# One statement per version-gated feature, run on the real server after SETUP: it must
# fail exactly when the server is older than the feature (zdlint.versions says when).
SETUP = (
    "CREATE TABLE t (a int, b int);\n"
    "CREATE INDEX t_a ON t (a);\n"
    "CREATE TABLE r (id int PRIMARY KEY);\n"
    "CREATE TABLE p (k int, r int) PARTITION BY RANGE (k);\n"
    "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (1) TO (10);\n"
)
FEATURE_STATEMENTS = [
    (REINDEX_CONCURRENTLY, "REINDEX INDEX CONCURRENTLY t_a"),
    (DETACH_CONCURRENTLY, "ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY"),
    (DETACH_FINALIZE, "ALTER TABLE p DETACH PARTITION p1 FINALIZE"),
    (STORED_GENERATED_COLUMN, "ALTER TABLE t ADD COLUMN s int GENERATED ALWAYS AS (a * 2) STORED"),
    (VIRTUAL_GENERATED_COLUMN, "ALTER TABLE t ADD COLUMN v int GENERATED ALWAYS AS (a * 2)"),
    (NOT_NULL_TABLE_CONSTRAINT, "ALTER TABLE t ADD CONSTRAINT t_b_nn NOT NULL b NOT VALID"),
    (
        NOT_VALID_FOREIGN_KEY_ON_PARTITIONED_TABLE,
        "ALTER TABLE p ADD CONSTRAINT p_r_fkey FOREIGN KEY (r) REFERENCES r (id) NOT VALID",
    ),
]


def test_every_gated_feature_has_a_statement_here():
    assert {feature for feature, _ in FEATURE_STATEMENTS} == set(FEATURES)


@pytest.mark.parametrize(("feature", "statement"), FEATURE_STATEMENTS)
def test_a_gated_statement_runs_exactly_from_its_version_on_a_real_server(
    feature, statement, pg_conn, pg_server
):
    major = pg_server.version // 10000
    pg_conn.execute(SETUP)
    try:
        pg_conn.execute(statement)
        ran = True
    except psycopg.errors.ObjectNotInPrerequisiteState as exc:
        # FINALIZE completes an interrupted CONCURRENTLY detach: with none pending, a
        # server that knows the syntax says so
        assert "no pending concurrent detach" in str(exc.diag.message_detail)
        ran = True
    except psycopg.Error:
        ran = False
    expected = major >= feature.since
    assert ran is expected, (feature.name, major)
    linted = codes(T + SETUP + statement + ";", pg_version=major)
    assert ("ZD207" in linted) is not expected


@pytest.mark.parametrize(("version", "virtual"), [(v, v >= 18) for v in VERSIONS if v >= 12])
def test_stored_generated_column_advice_offers_virtual_only_where_it_exists(version, virtual):
    sql = T + "ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a * 2) STORED;"
    (finding,) = lint(sql, pg_version=version)
    assert finding.help.startswith("Make it VIRTUAL") is virtual
    assert "trigger" in finding.help


PARTITIONED = "CREATE TABLE events (k int, account_id bigint) PARTITION BY RANGE (k);\n"
ADD_FK = (
    "ALTER TABLE events ADD CONSTRAINT events_account_fkey"
    " FOREIGN KEY (account_id) REFERENCES accounts (id)"
)


@pytest.mark.parametrize(("version", "expected"), _gate(18, ["ZD207"], []))
def test_a_not_valid_foreign_key_on_a_partitioned_table_fails_before_18(version, expected):
    found = lint_after(PARTITIONED, T + ADD_FK + " NOT VALID;", pg_version=version)
    assert [f.code for f in found] == expected


@pytest.mark.parametrize("version", VERSIONS)
def test_foreign_key_advice_on_a_partitioned_table_runs_on_the_target_version(version):
    (finding,) = lint_after(PARTITIONED, T + ADD_FK + ";", pg_version=version)
    assert finding.code == "ZD105"
    if version < 18:
        assert finding.help.startswith("events is partitioned, and before PostgreSQL 18")
        assert "to each partition" in finding.help
        assert "`" not in finding.help  # no SQL that would fail there
    else:
        assert finding.help.endswith(
            "NOT VALID;`, then run `ALTER TABLE events VALIDATE CONSTRAINT "
            "events_account_fkey;` in a separate transaction"
        )


@pytest.mark.parametrize(
    ("old", "change", "rewrites"),
    [
        ("timestamp", "TYPE timestamptz USING at", False),
        ("timestamp", "TYPE timestamptz USING at::timestamptz", False),
        ("timestamp", "TYPE timestamptz USING e.at", False),
        ("timestamp", "TYPE timestamptz USING at + interval '0'", True),
        ("varchar(10)", "TYPE text USING at", False),
        ("integer", "TYPE bigint USING at", True),
        ("timestamp", "TYPE timestamptz USING at::timestamp", True),
    ],
)
def test_using_the_column_itself_is_the_conversion_without_using(old, change, rewrites):
    # measured on PostgreSQL 15 (relfilenode before and after, TimeZone UTC)
    history = f"CREATE TABLE e (at {old});\n"
    found = [f.code for f in lint_after(history, T + f"ALTER TABLE e ALTER COLUMN at {change};")]
    assert found == (["ZD202"] if rewrites else [])
