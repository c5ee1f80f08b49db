"""Django migrations checked by the SQL they render without a database, each finding on
the line of the operation that renders it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import django

from tests.support import lint

INITIAL = """from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    operations = [
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("note", models.CharField(max_length=20, default="")),
            ],
        ),
    ]
"""


def _project(tmp_path: Path, *migrations: str) -> list[Path]:
    """A package `shop` with the migrations given after its 0001_initial."""
    folder = tmp_path / "shop" / "migrations"
    folder.mkdir(parents=True)
    (tmp_path / "shop" / "__init__.py").touch()
    (folder / "__init__.py").touch()
    paths = []
    for number, body in enumerate((INITIAL, *migrations), start=1):
        path = folder / f"{number:04d}_step.py"
        if number > 1:
            body = body.replace("DEPENDENCIES", f'[("shop", "{number - 1:04d}_step")]')
        path.write_text(body, encoding="utf-8")
        paths.append(path)
    return paths


def _check(path: Path, **settings: object) -> list[tuple[str, int]]:
    settings.setdefault("ignore", ("ZD401", "ZD410"))
    findings = lint(path.read_text(encoding="utf-8"), path, **settings)
    assert all(f.path == str(path) for f in findings)
    return [(f.code, f.span.line) for f in findings]


def _migration(operations: str, head: str = "", atomic: bool = True) -> str:
    flag = "" if atomic else "    atomic = False\n"
    return f"""from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
{head}

class Migration(migrations.Migration):
{flag}    dependencies = DEPENDENCIES

    operations = [
{operations}    ]
"""


def test_add_not_null_field_is_reported_on_the_operation_line(tmp_path):
    ops = '        migrations.AddField("order", "total", models.IntegerField()),\n'
    _, second = _project(tmp_path, _migration(ops))
    assert ("ZD301", 9) in _check(second)


def test_the_table_created_by_an_earlier_migration_is_an_existing_table(tmp_path):
    ops = '        migrations.AddIndex("order", models.Index(fields=["note"], name="note_idx")),\n'
    _, second = _project(tmp_path, _migration(ops))
    assert _check(second) == [("ZD102", 9)]


def test_a_table_created_in_the_same_migration_is_quiet(tmp_path):
    (initial,) = _project(tmp_path)
    assert _check(initial) == []


def test_add_index_concurrently_in_a_non_atomic_migration_is_clean(tmp_path):
    ops = '        AddIndexConcurrently("order", models.Index(fields=["note"], name="n_idx")),\n'
    _, second = _project(tmp_path, _migration(ops, atomic=False))
    assert _check(second) == []


def test_add_index_concurrently_in_an_atomic_migration_is_in_a_transaction(tmp_path):
    ops = '        AddIndexConcurrently("order", models.Index(fields=["note"], name="n_idx")),\n'
    _, second = _project(tmp_path, _migration(ops))
    assert ("ZD402", 9) in _check(second)


def test_run_sql_lists_and_noop_are_parsed_as_sql(tmp_path):
    ops = (
        "        migrations.RunSQL(migrations.RunSQL.noop),\n"
        "        migrations.RunSQL(\n"
        "            [\"UPDATE shop_order SET note = 'x'\"], migrations.RunSQL.noop\n"
        "        ),\n"
    )
    _, second = _project(tmp_path, _migration(ops))
    assert _check(second) == [("ZD501", 10)]
    (finding,) = lint(second.read_text(), second, ignore=("ZD401", "ZD410"))
    assert (finding.span.line, finding.span.column) == (10, 9)
    assert (finding.span.end_line, finding.span.end_column) == (12, 11)  # the whole call


def test_run_python_after_ddl_in_an_atomic_migration_holds_its_locks(tmp_path):
    head = "\n\ndef forwards(apps, schema_editor):\n    pass\n"
    ops = (
        '        migrations.AlterField("order", "note", models.CharField(max_length=10)),\n'
        "        migrations.RunPython(forwards, migrations.RunPython.noop),\n"
    )
    _, second = _project(tmp_path, _migration(ops, head))
    found = _check(second)
    assert ("ZD508", 14) in found


def test_run_python_in_a_non_atomic_migration_is_not_in_the_ddl_transaction(tmp_path):
    head = "\n\ndef forwards(apps, schema_editor):\n    pass\n"
    ops = (
        '        migrations.AlterField("order", "note", models.CharField(max_length=10)),\n'
        "        migrations.RunPython(forwards, migrations.RunPython.noop),\n"
    )
    _, second = _project(tmp_path, _migration(ops, head, atomic=False))
    assert "ZD508" not in [code for code, _ in _check(second)]


def test_separate_database_and_state_renders_only_its_database_operations(tmp_path):
    ops = """        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveField("order", "note")],
            database_operations=[
                migrations.RunSQL("ALTER TABLE shop_order DROP COLUMN note"),
            ],
        ),
"""
    _, second = _project(tmp_path, _migration(ops))
    assert _check(second) == [("ZD304", 9)]


def test_remove_field_drops_the_column(tmp_path):
    ops = '        migrations.RemoveField("order", "note"),\n'
    _, second = _project(tmp_path, _migration(ops))
    assert _check(second) == [("ZD304", 9)]


def test_a_comment_on_the_operation_line_suppresses_and_a_stale_one_is_reported(tmp_path):
    ops = (
        '        migrations.RemoveField("order", "note"),  # zdlint: ignore[ZD304] unused\n'
        '        migrations.AddField("order", "n", models.IntegerField(null=True)),'
        "  # zdlint: ignore[ZD102] nothing\n"
    )
    _, second = _project(tmp_path, _migration(ops))
    assert _check(second) == [("ZD002", 10)]


def test_a_migration_that_cannot_be_loaded_is_reported_never_clean(tmp_path):
    broken = _migration("", head="import shop.missing_module")
    _, second = _project(tmp_path, broken)
    assert [code for code, _ in _check(second)] == ["ZD004"]


def test_an_operation_that_queries_the_database_is_reported_on_its_line(tmp_path):
    head = "from django.contrib.postgres.operations import HStoreExtension"
    ops = "        HStoreExtension(),\n"
    _, second = _project(tmp_path, _migration(ops, head))
    assert _check(second) == [("ZD004", 9)]


def test_migrations_replaced_by_a_squashed_one_are_still_checked(tmp_path):
    ops = '        migrations.AddIndex("order", models.Index(fields=["note"], name="n_idx")),\n'
    initial, second = _project(tmp_path, _migration(ops))
    squashed = initial.parent / "0001_squashed_0002_step.py"
    squashed.write_text(
        INITIAL.replace(
            "initial = True",
            'initial = True\n    replaces = [("shop", "0001_step"), ("shop", "0002_step")]',
        ).replace("        ),\n    ]", "        ),\n" + ops.replace("order", "Order") + "    ]"),
        encoding="utf-8",
    )
    # the replaced migration still sees the table its predecessor created
    assert _check(second) == [("ZD102", 9)]
    # the squashed one creates the table itself
    assert _check(squashed) == []


def test_constraint_names_come_from_the_schema_the_earlier_migrations_built(tmp_path):
    """Django asks the database which constraint to drop; offline, the replayed schema
    answers."""
    ops = '        migrations.AlterField("order", "note", models.CharField(max_length=20)),\n'
    initial, second = _project(tmp_path, _migration(ops))
    initial.write_text(INITIAL.replace('default=""', 'default="", unique=True'), "utf-8")
    from zdlint.orm.django import render_graph

    graph = render_graph(second, None, 16)
    rendered = graph.rendered[second.resolve()]
    assert rendered.problems == []
    (drop,) = [s.sql for s in rendered.statements if "DROP CONSTRAINT" in s.sql]
    # the name PostgreSQL gave the inline UNIQUE of CREATE TABLE
    assert drop == 'ALTER TABLE "shop_order" DROP CONSTRAINT "shop_order_note_key";'


def test_github_annotations_and_sarif_name_the_python_file_and_line(tmp_path):
    ops = '        migrations.RemoveField("order", "note"),\n'
    _, second = _project(tmp_path, _migration(ops))
    relative = "shop/migrations/0002_step.py"

    def check(output_format: str) -> str:
        command = [sys.executable, "-m", "zdlint", "check", "--output-format", output_format]
        done = subprocess.run(
            [*command, "--ignore", "ZD401,ZD410", relative],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 1, done.stderr
        return done.stdout

    assert f"file={relative},line=9," in check("github")
    sarif = json.loads(check("sarif"))
    (result,) = sarif["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == relative
    assert location["region"]["startLine"] == 9


def test_the_settings_module_named_in_the_config_is_used(tmp_path):
    ops = '        migrations.RemoveField("order", "note"),\n'
    _, second = _project(tmp_path, _migration(ops))
    (tmp_path / "mysite").mkdir()
    (tmp_path / "mysite" / "__init__.py").touch()
    (tmp_path / "mysite" / "settings.py").write_text(
        "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': 'x'}}\n"
        "INSTALLED_APPS = ['shop']\n",
        encoding="utf-8",
    )
    from zdlint.catalogue import load_catalogue
    from zdlint.config import parse_settings

    config = {"django": {"settings": "mysite.settings"}}
    settings = parse_settings(config, load_catalogue(), "pyproject.toml", tmp_path, None)
    assert settings.django_settings == "mysite.settings"
    # the project's settings are loaded: their database is not PostgreSQL
    (finding,) = lint(second.read_text(), second, django_settings="mysite.settings")
    assert finding.code == "ZD004" and "sqlite" in finding.message


def test_a_folder_walk_finds_migration_modules_and_leaves_other_python_alone(tmp_path):
    ops = '        migrations.RemoveField("order", "note"),\n'
    _, second = _project(tmp_path, _migration(ops))
    (tmp_path / "shop" / "models.py").write_text("x = 1\n", encoding="utf-8")
    from zdlint.catalogue import load_catalogue
    from zdlint.config import Settings
    from zdlint.lint import lint_paths

    run = lint_paths([str(tmp_path)], Settings(ignore=("ZD401", "ZD410")), load_catalogue())
    assert sorted(r.path for r in run.reports) == sorted(
        [second.as_posix(), second.with_name("0001_step.py").as_posix()]
    )
    assert [f.code for r in run.reports for f in r.findings] == ["ZD304"]


def test_other_python_files_are_not_checked(tmp_path):
    path = tmp_path / "shop" / "models.py"
    path.parent.mkdir()
    path.write_text("class Migration(migrations.Migration):\n    pass\n", encoding="utf-8")
    assert lint(path.read_text(), path) == []


def test_the_sql_path_imports_neither_django_nor_alembic(tmp_path):
    sql = tmp_path / "x.sql"
    sql.write_text("CREATE INDEX a_idx ON a (b);\n", encoding="utf-8")
    code = (
        "import sys\nfrom zdlint.cli import run\n"
        f"sys.argv = ['zdlint', 'check', {str(sql)!r}]\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('django', 'alembic', 'sqlalchemy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr


def test_every_migration_of_djangos_contrib_apps_renders_or_is_reported():
    """A corpus: the migrations Django itself ships (auth, admin, contenttypes, …)."""
    contrib = Path(django.__file__).parent / "contrib"
    paths = sorted(p for p in contrib.glob("*/migrations/[0-9]*.py"))
    assert len(paths) >= 20
    from zdlint.catalogue import load_catalogue
    from zdlint.config import Settings
    from zdlint.lint import lint_paths

    run = lint_paths([str(p) for p in paths], Settings(), load_catalogue())
    assert run.errors == []
    assert len(run.reports) == len(paths)
    not_rendered = [r.path for r in run.reports if any(f.code == "ZD004" for f in r.findings)]
    # every migration renders: none needs the database
    assert not_rendered == []
