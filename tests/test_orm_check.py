"""The SQL text a rendered Python migration is checked as: its transaction written out."""

from __future__ import annotations

from zdlint.orm.check import migration_sql, python_comments
from zdlint.orm.rendered import RenderedMigration, RenderedStatement


def _statement(sql: str, line: int, transactional: bool = True) -> RenderedStatement:
    return RenderedStatement(sql, line, line, transactional)


def test_an_atomic_migration_is_one_transaction_around_its_statements():
    rendered = RenderedMigration([_statement("ALTER TABLE a ADD b int", 3), _statement("x", 4)])
    sql = migration_sql(rendered)
    assert sql.text == "BEGIN;\nALTER TABLE a ADD b int;\nx;\nCOMMIT;\n"
    assert sql.owners == [None, 0, 1, None]


def test_statements_outside_the_transaction_end_it_and_the_next_ones_open_a_new_one():
    rendered = RenderedMigration(
        [
            _statement("ALTER TABLE a ADD b int", 3),
            _statement("CREATE INDEX CONCURRENTLY i ON a (b)", 5, transactional=False),
            _statement("ALTER TABLE a ADD c int", 7),
        ]
    )
    assert migration_sql(rendered).text.splitlines() == [
        "BEGIN;",
        "ALTER TABLE a ADD b int;",
        "COMMIT;",
        "CREATE INDEX CONCURRENTLY i ON a (b);",
        "BEGIN;",
        "ALTER TABLE a ADD c int;",
        "COMMIT;",
    ]


def test_a_migration_that_is_not_atomic_has_no_transaction_written():
    rendered = RenderedMigration([_statement("UPDATE a SET b = 1;", 3)], atomic=False)
    assert migration_sql(rendered).text == "UPDATE a SET b = 1;\n"


def test_a_trailing_sql_comment_does_not_swallow_the_semicolon():
    rendered = RenderedMigration([_statement("UPDATE a SET b = 1 -- every row", 3)], atomic=False)
    sql = migration_sql(rendered)
    assert sql.text == "UPDATE a SET b = 1 -- every row\n;\n"
    assert sql.owners == [0, 0]


def test_python_comments_are_found_by_the_tokenizer_not_inside_strings():
    text = 'x = "# not a comment"  # zdlint: ignore[ZD102] small\n'
    ((start, end),) = python_comments(text)
    assert text[start:end] == "# zdlint: ignore[ZD102] small"
