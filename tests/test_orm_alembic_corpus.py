"""Real Alembic projects' revisions, installed from PyPI with the test extra: every
revision renders offline for PostgreSQL, or says on which line it needs a database.

optuna ships 10 revisions (batch_alter_table, ORM-session data migrations); mlflow-skinny
ships 77 (70 tracking-store and 7 auth revisions, with dialect branches and inspector reads).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pglast
import pytest

pytest.importorskip("alembic")

from zdlint.orm.alembic import is_alembic_revision, render_alembic  # noqa: E402

# (package, versions folders inside it, the least number of revisions expected there)
PROJECTS = [
    ("optuna", ["storages/_rdb/alembic/versions"], 10),
    ("mlflow", ["store/db_migrations/versions", "server/auth/db/migrations/versions"], 70),
]

# What a revision may say it could not render; an import failure is not among them: with
# its package installed, every revision imports.
CONNECTION = "needs a database connection: "


def revisions(package: str, folders: list[str]) -> list[Path]:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"{package} is not installed (it is in the test extra)")
    root = Path(next(iter(spec.submodule_search_locations)))
    return sorted(
        path
        for folder in folders
        for path in (root / folder).glob("*.py")
        if path.name != "__init__.py"
    )


@pytest.mark.parametrize(("package", "folders", "least"), PROJECTS, ids=[p[0] for p in PROJECTS])
def test_every_revision_renders_or_names_the_line_that_needs_a_database(package, folders, least):
    paths = revisions(package, folders)
    assert len(paths) >= least
    rendered_any = 0
    for path in paths:
        text = path.read_text()
        assert is_alembic_revision(text, path), path
        rendered = render_alembic(path, text)
        lines = len(text.splitlines())
        for statement in rendered.statements:
            pglast.parse_sql(statement.sql)  # valid PostgreSQL, values rendered in place
            assert 1 <= statement.line <= statement.end_line <= lines
            assert statement.transactional
        for line, message in rendered.problems:
            assert 1 <= line <= lines
            assert message.startswith(CONNECTION), (path.name, line, message)
            assert "._" not in message  # a library's probing of the bind is not a use
        if rendered.statements:
            rendered_any += 1
        elif not rendered.problems:
            # Silent only where upgrade() does something on other databases alone.
            assert "get_bind()" in text, path.name
    assert rendered_any >= len(paths) // 2
