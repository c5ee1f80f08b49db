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


FIRST = """from alembic import op
import sqlalchemy as sa

revision = "a0"
down_revision = None


def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.String(20)))
"""

SECOND = """from alembic import op
import sqlalchemy as sa

revision = "a1"
down_revision = "a0"


def upgrade():
    op.alter_column("users", "name", type_=sa.String(10))  # zdlint: ignore[ZD401] 40 rows
    op.create_index("ix_users_name", "users", ["name"])
"""


def test_an_alembic_revision_is_checked_after_its_down_revisions(tmp_path):
    """The schema of the earlier revisions is known: varchar(20) -> varchar(10)
    rewrites the table; findings sit on the op's line and a comment there suppresses."""
    from tests.support import lint

    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a0_users.py").write_text(FIRST, encoding="utf-8")
    second = versions / "a1_name.py"
    second.write_text(SECOND, encoding="utf-8")
    findings = lint(SECOND, second)
    assert [(f.code, f.span.line, f.path) for f in findings] == [
        ("ZD202", 9, str(second)),
        ("ZD102", 10, str(second)),
    ]
    # without the revision that created the column, its type is unknown
    (versions / "a0_users.py").unlink()
    assert "ZD202" not in [f.code for f in lint(SECOND, second)]


def test_the_revisions_before_one_follow_down_revision_not_file_names(tmp_path):
    from zdlint.orm.check import alembic_ancestors

    (tmp_path / "z_first.py").write_text(FIRST, encoding="utf-8")
    (tmp_path / "a_second.py").write_text(SECOND, encoding="utf-8")
    third = tmp_path / "m_third.py"
    third.write_text(SECOND.replace('"a1"', '"a2"').replace('"a0"', '"a1"'), "utf-8")
    assert [p.name for p in alembic_ancestors(third)] == ["z_first.py", "a_second.py"]
