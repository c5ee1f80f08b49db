"""The SQL front end: statements, exact positions, syntax errors, fast tree building."""

from __future__ import annotations

import re

import pytest
from pglast import parser as pg_parser

from tests.support import CORPUS, codes, lint
from zdlint.source import SourceText, decode
from zdlint.sql.parse import parse_fast, parse_statements
from zdlint.sql.placeholders import substitute, substitute_placeholders


def statements(text: str):
    return parse_statements(SourceText(text))


def test_each_statement_has_its_exact_span():
    text = "SELECT 1;\n  ALTER TABLE t\n    ADD COLUMN c int;\n"
    first, second = statements(text)
    assert (first.span.line, first.span.column, first.span.end_line, first.span.end_column) == (
        1,
        1,
        1,
        9,
    )
    assert (second.span.line, second.span.column) == (2, 3)
    assert (second.span.end_line, second.span.end_column) == (3, 21)
    assert second.text == "ALTER TABLE t\n    ADD COLUMN c int"


def test_columns_count_characters_not_bytes_after_multibyte_text():
    text = "COMMENT ON TABLE t IS 'héllo 日本'; SELECT 1;"
    second = statements(text)[1]
    assert second.span.column == text.index("SELECT") + 1


def test_crlf_line_endings_give_the_same_lines_and_columns():
    text = "SELECT 1;\r\nSELECT 2;\r\n  SELECT 3;\r\n"
    spans = [(s.span.line, s.span.column) for s in statements(text)]
    assert spans == [(1, 1), (2, 1), (3, 3)]


def test_a_bom_is_not_counted_as_a_column():
    text = decode("\ufeffALTER TABLE users ALTER COLUMN email SET NOT NULL;".encode())
    (finding,) = [f for f in lint(text) if f.code == "ZD101"]
    assert (finding.span.line, finding.span.column) == (1, 1)


def test_a_comment_above_a_statement_belongs_to_it_and_a_trailing_one_to_the_previous():
    text = "SELECT 1; -- about select 1\n-- about select 2\nSELECT 2;\n"
    first, second = statements(text)
    assert text[second.comment_start : second.start] == "-- about select 2\n"
    assert first.comment_start == 0
    assert second.comment_start > text.index("-- about select 1")


def test_a_syntax_error_is_one_finding_and_the_rest_is_still_checked():
    text = (
        "ALTER TABLE users ADD COLUMN a int;\n"
        "ALTR TABLE users DROP COLUMN a;\n"
        "CREATE INDEX users_a ON users (a);\n"
    )
    findings = lint(text)
    syntax = [f for f in findings if f.code == "ZD001"]
    assert len(syntax) == 1
    assert (syntax[0].span.line, syntax[0].span.column) == (2, 1)
    assert "ZD102" in [f.code for f in findings]


def test_a_syntax_error_points_at_the_offending_token():
    text = "SELECT 1;\nSELECT * FROM t WHERE;\n"
    (finding,) = [f for f in lint(text) if f.code == "ZD001"]
    assert finding.span.line == 2
    assert finding.span.column == text.splitlines()[1].index(";") + 1
    assert "syntax error" in finding.message


def test_an_unterminated_string_is_reported_and_earlier_statements_checked():
    text = "CREATE INDEX i ON users (a);\nSELECT 'abc\n"
    found = codes(text)
    assert "ZD001" in found and "ZD102" in found


def test_semicolons_inside_dollar_quotes_and_begin_atomic_do_not_split():
    text = (
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\n"
        "DO $$ BEGIN PERFORM 1; END $$;\n"
        "SELEC 1;\n"
    )
    parsed = statements(text)
    assert [s.kind for s in parsed] == ["CreateFunctionStmt", "DoStmt", "SyntaxError"]


def test_placeholders_become_identifiers_of_the_same_length():
    text = "CREATE INDEX i ON {{ schema }}.users (email); SELECT @extschema@.f(), $%NAME%$;"
    replaced = substitute_placeholders(text)
    assert len(replaced) == len(text)
    assert "{{" not in replaced and "@extschema@" not in replaced and "$%" not in replaced
    assert replaced.index("users") == text.index("users")


def test_templated_migrations_parse_by_default_and_templates_false_turns_it_off():
    text = "SET lock_timeout = 1000;\nCREATE INDEX users_email ON {{ schema }}.users (email);\n"
    assert "ZD001" in codes(text, templates=False)
    found = lint(text)
    assert [f.code for f in found] == ["ZD102"]
    assert (found[0].span.line, found[0].span.column) == (2, 1)


def test_each_distinct_placeholder_gets_its_own_stand_in_and_keeps_it_across_files():
    text = "ALTER TABLE {{ .A }} ADD COLUMN x int;\nALTER TABLE {{ .B }} RENAME TO {{ .A }};\n"
    sub = substitute(text)
    names = sorted(sub.originals)
    assert len(names) == 2 and all(len(n) == len("{{ .A }}") for n in names)
    assert sub.text.count(names[0]) + sub.text.count(names[1]) == 3
    assert sub.originals == substitute("SELECT 1 FROM {{ .B }}, {{ .A }};").originals


def test_template_control_blocks_become_blanks_and_keep_lines():
    text = (
        "{{ if .Postgres }}\nCREATE INDEX i ON t (a);\n{{- end }}\n{% if x %}SELECT 1;{% endif %}"
    )
    sub = substitute(text)
    assert sub.originals == {}
    assert sub.text.split("\n")[1] == "CREATE INDEX i ON t (a);"
    assert sub.text.count("\n") == text.count("\n") and len(sub.text) == len(text)
    assert [s.kind for s in statements(sub.text)] == ["IndexStmt", "SelectStmt"]


def test_messages_and_help_name_templated_tables_and_columns_as_written():
    text = (
        "SET lock_timeout = '1s';\n"
        "ALTER TABLE {{ .Table }} ALTER COLUMN @col@ SET NOT NULL;\n"
        "CREATE INDEX i ON $%SCHEMA%$.{{ .Table }} (@col@);\n"
    )
    found = lint(text)
    assert [f.code for f in found] == ["ZD101", "ZD102"]
    assert "`{{ .Table }}.@col@`" in found[0].message
    assert "CHECK (@col@ IS NOT NULL)" in found[0].help
    assert "ADD CONSTRAINT {{ .Table }}_@col@_not_null CHECK" in found[0].help  # a derived name
    assert "`$%SCHEMA%$.{{ .Table }}`" in found[1].message
    for finding in found:
        assert not re.search(r"\bz[0-9a-z_]{2,}\b", finding.message + finding.help)


def test_fix_output_writes_templated_names_as_written():
    from tests.fix_support import fix_source

    text = "SET lock_timeout = '1s';\nCREATE INDEX i ON {{ .Schema }}.users (email);\n"
    outputs = fix_source(text).outputs
    assert outputs
    written = "".join(o.text for o in outputs)
    assert "CREATE INDEX CONCURRENTLY i ON {{ .Schema }}.users (email);" in written
    assert substitute(text).originals.keys().isdisjoint(written.split())


def test_trees_built_without_type_checks_equal_the_stock_trees():
    text = (
        "ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0, ALTER COLUMN d TYPE bigint;\n"
        "UPDATE t SET a = b WHERE id IN (SELECT id FROM t LIMIT 10);\n"
        "CREATE INDEX CONCURRENTLY i ON t USING gin (payload jsonb_path_ops);\n"
    )
    assert parse_fast(text) == pg_parser.parse_sql(text)


@pytest.mark.skipif(not (CORPUS / "sql").is_dir(), reason="shared/corpus/sql is absent")
def test_fast_trees_are_identical_to_stock_trees_on_the_whole_corpus():
    files = sorted((CORPUS / "sql").rglob("*.sql"))
    assert len(files) > 1000
    compared = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        try:
            stock = pg_parser.parse_sql(text)
        except pg_parser.ParseError:
            continue
        fast = parse_fast(text)
        assert fast == stock, path
        # equality ignores positions; compare those as well
        assert [(r.stmt_location, r.stmt_len) for r in fast] == [
            (r.stmt_location, r.stmt_len) for r in stock
        ], path
        compared += 1
    assert compared > 1000
