"""Alembic revisions rendered offline for PostgreSQL: the SQL each op runs, the line of the
op that runs it, Alembic's transaction, and what cannot be rendered without a database."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("alembic")

from zdlint.orm.alembic import is_alembic_revision, render_alembic  # noqa: E402
from zdlint.orm.rendered import RenderedMigration  # noqa: E402

HEADER = '''\
"""a revision"""
from alembic import op
import sqlalchemy as sa

revision = "b2"
down_revision = "a1"


def upgrade():
'''


def revision_file(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    versions = tmp_path / "alembic" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    path = versions / "b2_change.py"
    path.write_text(header + textwrap.indent(textwrap.dedent(body), "    "))
    return path


def render(tmp_path: Path, body: str, header: str = HEADER) -> RenderedMigration:
    path = revision_file(tmp_path, body, header)
    return render_alembic(path, path.read_text())


def line_of(path: Path, fragment: str) -> int:
    lines = path.read_text().splitlines()
    return next(number for number, text in enumerate(lines, 1) if fragment in text)


def test_a_module_with_revision_down_revision_and_upgrade_is_a_revision(tmp_path):
    typed = HEADER.replace('revision = "b2"', 'revision: str = "b2"').replace(
        'down_revision = "a1"', "down_revision: Union[str, None] = None"
    )
    path = tmp_path / "b2.py"
    assert is_alembic_revision(HEADER + "    pass\n", path)
    assert is_alembic_revision(typed.replace("def upgrade():", "def upgrade() -> None:"), path)


def test_modules_without_the_revision_markers_are_not_revisions(tmp_path):
    django = "from django.db import migrations\n\nclass Migration(migrations.Migration):\n"
    assert not is_alembic_revision(django, tmp_path / "0001_initial.py")
    no_upgrade = 'revision = "b2"\ndown_revision = None\n'
    assert not is_alembic_revision(no_upgrade, tmp_path / "b2.py")
    nested = 'def f():\n    revision = "b2"\n    down_revision = None\ndef upgrade():\n    pass\n'
    assert not is_alembic_revision(nested, tmp_path / "b2.py")
    assert not is_alembic_revision(HEADER + "    pass\n", tmp_path / "b2.sql")


def test_create_table_renders_its_ddl_on_the_lines_of_the_call(tmp_path):
    path = revision_file(
        tmp_path,
        """\
        op.create_table(
            "users",
            sa.Column("id", sa.BigInteger(), primary_key=True),
            sa.Column("email", sa.String(200), nullable=False),
        )
        """,
    )
    (statement,) = render_alembic(path, path.read_text()).statements
    assert " ".join(statement.sql.split()) == (
        "CREATE TABLE users ( id BIGSERIAL NOT NULL, email VARCHAR(200) NOT NULL, "
        "PRIMARY KEY (id) )"
    )
    start = line_of(path, "op.create_table(")
    assert (statement.line, statement.end_line) == (start, start + 4)
    assert statement.transactional


def test_add_column_nullable_and_not_null_with_server_default(tmp_path):
    rendered = render(
        tmp_path,
        """\
        op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))
        op.add_column(
            "users",
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        )
        """,
    )
    assert [(s.sql, s.line, s.end_line) for s in rendered.statements] == [
        ("ALTER TABLE users ADD COLUMN nickname TEXT", 10, 10),
        ("ALTER TABLE users ADD COLUMN active BOOLEAN DEFAULT true NOT NULL", 11, 14),
    ]
    assert rendered.problems == []


def test_create_foreign_key_and_alter_column_type(tmp_path):
    rendered = render(
        tmp_path,
        """\
        op.create_foreign_key("fk_orders_user", "orders", "users", ["user_id"], ["id"])
        op.alter_column("orders", "total", type_=sa.Numeric(12, 2), existing_type=sa.Integer())
        """,
    )
    assert [(s.sql, s.line) for s in rendered.statements] == [
        (
            "ALTER TABLE orders ADD CONSTRAINT fk_orders_user FOREIGN KEY(user_id) "
            "REFERENCES users (id)",
            10,
        ),
        ("ALTER TABLE orders ALTER COLUMN total TYPE NUMERIC(12, 2)", 11),
    ]


def test_create_index_runs_in_the_migration_transaction(tmp_path):
    rendered = render(tmp_path, 'op.create_index("ix_users_email", "users", ["email"])\n')
    (statement,) = rendered.statements
    assert statement.sql == "CREATE INDEX ix_users_email ON users (email)"
    assert statement.transactional and rendered.atomic


def test_a_concurrent_index_in_autocommit_block_runs_outside_the_transaction(tmp_path):
    """The block commits the migration's transaction and begins a new one after it: a
    SET LOCAL before the block does not reach the statements after it."""
    rendered = render(
        tmp_path,
        """\
        op.execute("SET LOCAL lock_timeout = '2s'")
        with op.get_context().autocommit_block():
            op.create_index(
                "ix_users_email", "users", ["email"], postgresql_concurrently=True
            )
        op.add_column("users", sa.Column("note", sa.Text()))
        """,
    )
    assert [(s.sql, s.line, s.end_line, s.transactional) for s in rendered.statements] == [
        ("SET LOCAL lock_timeout = '2s'", 10, 10, True),
        ("CREATE INDEX CONCURRENTLY ix_users_email ON users (email)", 12, 14, False),
        ("ALTER TABLE users ADD COLUMN note TEXT", 15, 15, True),
    ]
    assert rendered.atomic  # Alembic's own BEGIN/COMMIT are boundaries, not statements


def test_env_py_without_transactional_ddl_runs_nothing_in_a_transaction(tmp_path):
    path = revision_file(tmp_path, 'op.create_index("ix_a", "users", ["a"])\n')
    (path.parent.parent / "env.py").write_text(
        "from alembic import context\n"
        "context.configure(url='postgresql://', transactional_ddl=False)\n"
    )
    rendered = render_alembic(path, path.read_text())
    assert not rendered.atomic
    assert [s.transactional for s in rendered.statements] == [False]


def test_text_with_bind_parameters_renders_their_literal_values(tmp_path):
    rendered = render(
        tmp_path,
        """\
        op.execute(
            sa.text("UPDATE users SET name = :name WHERE id = :id").bindparams(
                name="O'Brien", id=7
            )
        )
        """,
    )
    (statement,) = rendered.statements
    assert statement.sql == "UPDATE users SET name = 'O''Brien' WHERE id = 7"
    assert (statement.line, statement.end_line) == (10, 14)


def test_a_bind_parameter_without_a_value_is_a_problem_never_null(tmp_path):
    rendered = render(tmp_path, 'op.execute(sa.text("DELETE FROM users WHERE id = :id"))\n')
    assert rendered.statements == []
    ((line, message),) = rendered.problems
    assert line == 10
    assert message == (
        "could not render offline: ValueError: bind parameter :id has no value offline; "
        "the rest of upgrade() is not checked"
    )


def test_bulk_insert_renders_one_insert_per_row_with_literal_values(tmp_path):
    rendered = render(
        tmp_path,
        """\
        roles = sa.table("roles", sa.column("id", sa.Integer), sa.column("name", sa.String))
        op.bulk_insert(roles, [{"id": 1, "name": "admin"}, {"id": 2, "name": "viewer"}])
        """,
    )
    assert [(s.sql, s.line) for s in rendered.statements] == [
        ("INSERT INTO roles (id, name) VALUES (1, 'admin')", 11),
        ("INSERT INTO roles (id, name) VALUES (2, 'viewer')", 11),
    ]


def test_a_sqlalchemy_update_is_rendered_for_postgresql(tmp_path):
    rendered = render(
        tmp_path,
        """\
        users = sa.table("users", sa.column("id", sa.Integer), sa.column("plan", sa.String))
        op.execute(users.update().where(users.c.plan.is_(None)).values(plan="free"))
        """,
    )
    (statement,) = rendered.statements
    assert statement.sql == "UPDATE users SET plan='free' WHERE users.plan IS NULL"


def test_batch_alter_table_ops_keep_their_own_lines(tmp_path):
    rendered = render(
        tmp_path,
        """\
        with op.batch_alter_table("users") as batch_op:
            batch_op.add_column(sa.Column("age", sa.Integer()))
            batch_op.alter_column("email", type_=sa.Text())
        op.drop_column("users", "legacy")
        """,
    )
    assert [(s.sql, s.line) for s in rendered.statements] == [
        ("ALTER TABLE users ADD COLUMN age INTEGER", 11),
        ("ALTER TABLE users ALTER COLUMN email TYPE TEXT", 12),
        ("ALTER TABLE users DROP COLUMN legacy", 13),
    ]


def test_a_query_through_get_bind_is_rendered_and_reported_as_needing_a_connection(tmp_path):
    """Its SQL runs in the migration's transaction, so it is checked; its rows are not
    there offline, which is reported on its line. The ops after it are still rendered."""
    rendered = render(
        tmp_path,
        """\
        conn = op.get_bind()
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("UPDATE users SET plan = :plan"), {"plan": "free"})
        for row in conn.execute(sa.text("SELECT id FROM users")):
            op.execute(f"UPDATE users SET n = 1 WHERE id = {row.id}")
        op.alter_column("users", "plan", nullable=False)
        """,
    )
    assert [(s.sql, s.line, s.transactional) for s in rendered.statements] == [
        ("UPDATE users SET plan = 'free'", 12, True),
        ("SELECT id FROM users", 13, True),
        ("ALTER TABLE users ALTER COLUMN plan SET NOT NULL", 15, True),
    ]
    assert [line for line, _ in rendered.problems] == [12, 13]
    assert all(
        message.startswith("needs a database connection: op.get_bind() runs a query")
        for _, message in rendered.problems
    )


def test_reading_the_live_schema_through_get_bind_stops_rendering_on_its_line(tmp_path):
    rendered = render(
        tmp_path,
        """\
        op.add_column("users", sa.Column("age", sa.Integer()))
        inspector = sa.inspect(op.get_bind())
        if "legacy" in inspector.get_table_names():
            op.drop_table("legacy")
        """,
    )
    assert [s.sql for s in rendered.statements] == ["ALTER TABLE users ADD COLUMN age INTEGER"]
    assert rendered.problems == [
        (
            11,
            "needs a database connection: sa.inspect(op.get_bind()) reads the live schema; "
            "the rest of upgrade() is not checked",
        )
    ]


def test_an_orm_session_on_get_bind_is_reported_as_needing_a_connection(tmp_path):
    rendered = render(
        tmp_path,
        """\
        session = sa.orm.Session(bind=op.get_bind())
        session.execute(sa.text("SELECT 1")).all()
        """,
        header=HEADER.replace(
            "import sqlalchemy as sa\n", "import sqlalchemy as sa\nimport sqlalchemy.orm\n"
        ),
    )
    ((line, message),) = rendered.problems
    assert line == 12
    assert message.startswith("needs a database connection: op.get_bind().")


def test_a_revision_whose_import_fails_is_a_problem_on_the_import_line(tmp_path):
    header = HEADER.replace(
        "import sqlalchemy as sa\n", "import sqlalchemy as sa\nfrom app.models import User\n"
    )
    path = revision_file(tmp_path, 'op.add_column("users", sa.Column("x", sa.Integer()))\n', header)
    rendered = render_alembic(path, path.read_text())
    assert rendered.statements == []
    assert rendered.problems == [
        (
            line_of(path, "from app.models"),
            "could not import the revision offline: ModuleNotFoundError: No module named 'app'",
        )
    ]


def test_a_failing_op_keeps_the_statements_rendered_before_it(tmp_path):
    rendered = render(
        tmp_path,
        """\
        op.add_column("users", sa.Column("age", sa.Integer()))
        op.create_index("ix_users_age", "users", ["age"], postgresql_using=undefined_name)
        op.drop_column("users", "legacy")
        """,
    )
    assert [s.sql for s in rendered.statements] == ["ALTER TABLE users ADD COLUMN age INTEGER"]
    assert rendered.problems == [
        (
            11,
            "could not render offline: NameError: name 'undefined_name' is not defined; "
            "the rest of upgrade() is not checked",
        )
    ]


def test_a_revision_that_does_not_compile_is_a_problem_on_its_line(tmp_path):
    rendered = render(tmp_path, "op.add_column(\n")
    assert rendered.statements == []
    ((line, message),) = rendered.problems
    assert line >= 10 and message.startswith("the revision does not compile")


def test_alembic_context_answers_offline_and_the_proxies_are_removed_after(tmp_path):
    import alembic.context
    import alembic.op

    header = HEADER.replace("from alembic import op\n", "from alembic import context, op\n")
    body = 'if context.is_offline_mode():\n    op.execute("SELECT 1")\n'
    rendered = render(tmp_path, body, header)
    assert [s.sql for s in rendered.statements] == ["SELECT 1"]
    assert alembic.op._proxy is None and alembic.context._proxy is None
    assert not [name for name in sys.modules if name.startswith("zdlint_alembic_revision")]


def test_untyped_columns_of_a_data_migration_render_their_values(tmp_path):
    rendered = render(
        tmp_path,
        """\
        jobs = sa.table("jobs", sa.column("status"), sa.column("note"))
        op.execute(jobs.update().where(jobs.c.status.in_([1, 2])).values(note="stale"))
        op.bulk_insert(jobs, [{"status": 3, "note": "new"}])
        """,
    )
    assert [s.sql for s in rendered.statements] == [
        "UPDATE jobs SET note='stale' WHERE jobs.status IN (1, 2)",
        "INSERT INTO jobs (status, note) VALUES (3, 'new')",
    ]
    assert rendered.problems == []


def test_the_dialect_of_get_bind_is_postgresql_without_a_connection(tmp_path):
    rendered = render(
        tmp_path,
        """\
        bind = op.get_bind()
        if bind.engine.name == "mysql" or bind.engine.dialect.name != "postgresql":
            op.drop_table("mysql_only")
        if bind.dialect.name == "postgresql":
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        """,
    )
    assert [s.sql for s in rendered.statements] == ["CREATE EXTENSION IF NOT EXISTS pg_trgm"]
    assert rendered.problems == []


def test_a_connection_use_the_revision_catches_is_still_reported(tmp_path):
    rendered = render(
        tmp_path,
        """\
        try:
            op.get_bind().connection.commit()
        except Exception:
            pass
        op.drop_column("users", "legacy")
        """,
    )
    assert [s.sql for s in rendered.statements] == ["ALTER TABLE users DROP COLUMN legacy"]
    assert rendered.problems == [
        (11, "needs a database connection: op.get_bind().connection is not available offline")
    ]


def test_the_statement_loses_its_own_trailing_semicolon_too(tmp_path):
    rendered = render(tmp_path, 'op.execute("DROP TRIGGER t ON users;  ")\n')
    assert [s.sql for s in rendered.statements] == ["DROP TRIGGER t ON users"]


def test_a_percent_sign_in_the_revision_sql_is_rendered_once(tmp_path):
    rendered = render(
        tmp_path,
        """\
        op.execute("DELETE FROM logs WHERE path LIKE '/tmp/%'")
        op.execute(sa.text("UPDATE t SET ratio = :r").bindparams(r="50%"))
        """,
    )
    assert [s.sql for s in rendered.statements] == [
        "DELETE FROM logs WHERE path LIKE '/tmp/%'",
        "UPDATE t SET ratio = '50%'",
    ]


def test_what_the_revision_prints_or_warns_stays_out_of_the_output(tmp_path, capsys):
    rendered = render(
        tmp_path,
        """\
        import warnings
        print("upgrading")
        warnings.warn("deprecated")
        op.drop_index("ix_old")
        """,
    )
    assert [s.sql for s in rendered.statements] == ["DROP INDEX ix_old"]
    assert capsys.readouterr() == ("", "")


def test_alembic_context_get_bind_is_the_offline_bind_too(tmp_path):
    header = HEADER.replace("from alembic import op\n", "from alembic import context, op\n")
    rendered = render(tmp_path, 'context.get_bind().execute(sa.text("SELECT 1"))\n', header)
    assert [s.sql for s in rendered.statements] == ["SELECT 1"]
    assert [line for line, _ in rendered.problems] == [10]


def test_without_alembic_installed_the_revision_is_a_problem_not_a_crash(tmp_path, monkeypatch):
    import importlib.util

    path = revision_file(tmp_path, 'op.drop_index("ix_old")\n')
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    rendered = render_alembic(path, path.read_text())
    assert rendered.statements == []
    assert rendered.problems == [(1, "Alembic is not installed: pip install 'zdlint[alembic]'")]


def test_the_project_on_alembic_ini_prepend_sys_path_is_importable(tmp_path):
    """As `alembic upgrade` run beside alembic.ini, a revision imports the project's code."""
    package = f"shop_{tmp_path.name.replace('-', '_')}"
    (tmp_path / "src" / package).mkdir(parents=True)
    (tmp_path / "src" / package / "__init__.py").write_text(
        "import sqlalchemy as sa\nMONEY = sa.Numeric(12, 2)\n"
    )
    (tmp_path / "alembic.ini").write_text(
        "[alembic]\nscript_location = alembic\nprepend_sys_path = . src\n"
    )
    header = HEADER.replace(
        "import sqlalchemy as sa\n", f"import sqlalchemy as sa\nfrom {package} import MONEY\n"
    )
    saved_path = list(sys.path)
    try:
        rendered = render(tmp_path, 'op.add_column("orders", sa.Column("total", MONEY))\n', header)
    finally:
        sys.modules.pop(package, None)
    assert [s.sql for s in rendered.statements] == [
        "ALTER TABLE orders ADD COLUMN total NUMERIC(12, 2)"
    ]
    assert rendered.problems == []
    assert sys.path == saved_path


def test_a_query_result_that_must_have_a_row_stops_rendering_on_its_line(tmp_path):
    rendered = render(
        tmp_path,
        """\
        count = op.get_bind().execute(sa.text("SELECT count(*) FROM users")).scalar_one()
        op.drop_column("users", "legacy")
        """,
    )
    assert [s.sql for s in rendered.statements] == ["SELECT count(*) FROM users"]
    assert rendered.problems == [
        (
            10,
            "needs a database connection: the result of op.get_bind().execute() has no "
            ".scalar_one offline; the rest of upgrade() is not checked",
        )
    ]


def test_importing_the_renderer_imports_neither_alembic_nor_sqlalchemy():
    """The SQL path may import it; only rendering a revision loads Alembic."""
    import subprocess

    probe = (
        "import sys, zdlint.orm.alembic\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'sqlalchemy')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
