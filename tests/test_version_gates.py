"""Each PostgreSQL version boundary the hazard rules use, checked on both sides."""

from __future__ import annotations

import pytest

from tests.support import codes, lint

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


@pytest.mark.parametrize(("version", "expected"), [(11, []), (12, ["ZD206"])])
def test_stored_generated_columns_exist_from_12(version, expected):
    sql = T + "ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a * 2) STORED;"
    assert codes(sql, pg_version=version) == expected


def test_set_not_null_message_explains_the_scan_before_12_and_the_shortcut_from_12():
    proof = (
        "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE users VALIDATE CONSTRAINT c;\n"
    )
    sql = T + proof + "ALTER TABLE users ALTER COLUMN email SET NOT NULL;"
    (old,) = lint(sql, pg_version=11)
    assert "before PostgreSQL 12 it scans even when a validated CHECK" in old.message
    assert "keep the validated CHECK instead of SET NOT NULL" in old.help
    assert codes(sql, pg_version=12) == []
    (bare,) = lint(T + "ALTER TABLE users ALTER COLUMN email SET NOT NULL;", pg_version=12)
    assert "before PostgreSQL 12" not in bare.message
    assert bare.help.endswith("then SET NOT NULL (no scan from PostgreSQL 12)")


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


@pytest.mark.parametrize(("version", "expected"), [(17, ["ZD206"]), (18, [])])
def test_virtual_generated_columns_are_free_from_18(version, expected):
    # PostgreSQL 18 makes VIRTUAL the default; before 18 every generated column is stored.
    sql = T + "ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a * 2);"
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
