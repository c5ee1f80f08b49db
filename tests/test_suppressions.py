"""`-- zdlint: ignore[…]` comments and the unused-suppression finding."""

from __future__ import annotations

from tests.support import codes, lint

T = "SET lock_timeout = '3s';\n"


def test_ignore_above_a_multiline_statement_covers_all_of_it():
    sql = T + (
        "-- zdlint: ignore[ZD101] the table has 12 rows\n"
        "ALTER TABLE users\n"
        "  ALTER COLUMN email\n"
        "  SET NOT NULL;\n"
    )
    assert codes(sql) == []


def test_ignore_on_the_statements_own_line_works_and_accepts_names():
    sql = (
        T
        + "ALTER TABLE users ALTER COLUMN email SET NOT NULL;"
        + " -- zdlint: ignore[set-not-null-scan]\n"
    )
    assert codes(sql) == []


def test_ignore_applies_only_to_its_statement():
    sql = T + (
        "-- zdlint: ignore[ZD102]\nCREATE INDEX a ON users (a);\nCREATE INDEX b ON users (b);\n"
    )
    (finding,) = lint(sql)
    assert finding.code == "ZD102" and finding.span.line == 4


def test_a_trailing_comment_belongs_to_the_statement_before_it():
    sql = T + (
        "CREATE INDEX a ON users (a); -- zdlint: ignore[ZD102]\nCREATE INDEX b ON users (b);\n"
    )
    (finding,) = lint(sql)
    assert finding.span.line == 3


def test_file_ignore_covers_the_whole_file():
    sql = "-- zdlint: file-ignore[ZD102, missing-lock-timeout]\n" + (
        "CREATE INDEX a ON users (a);\nCREATE INDEX b ON users (b);\n"
    )
    assert codes(sql) == []


def test_a_suppression_that_suppresses_nothing_is_reported_where_it_is():
    sql = T + "-- zdlint: ignore[ZD102] not needed\nCREATE TABLE x (id int);\n"
    (finding,) = lint(sql)
    assert finding.code == "ZD002"
    assert (finding.span.line, finding.span.column) == (2, 1)
    assert "`ZD102`" in finding.message


def test_only_the_unused_code_of_a_suppression_is_reported():
    sql = T + "-- zdlint: ignore[ZD102, ZD101]\nCREATE INDEX a ON users (a);\n"
    (finding,) = lint(sql)
    assert finding.code == "ZD002" and "`ZD101`" in finding.message


def test_an_unknown_rule_in_a_suppression_is_reported():
    sql = T + "-- zdlint: ignore[ZD999]\nCREATE TABLE x (id int);\n"
    (finding,) = lint(sql)
    assert finding.code == "ZD002" and "no rule is called `ZD999`" in finding.message


def test_a_directive_inside_a_string_is_not_a_suppression():
    sql = (
        T + "COMMENT ON TABLE users IS '-- zdlint: ignore[ZD102]';\nCREATE INDEX a ON users (a);\n"
    )
    assert codes(sql) == ["ZD102"]


def test_unused_suppression_can_itself_be_ignored_by_config():
    sql = "-- zdlint: ignore[ZD102]\nCREATE TABLE x (id int);\n"
    assert codes(sql, ignore=("ZD002",)) == []
