"""The release being checked: migrations added on a branch (`--diff-base`) ship together,
so what an earlier one of them creates is as new to the running version as what the
file itself creates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from zdlint.cache import FindingsCache
from zdlint.catalogue import load_catalogue
from zdlint.config import Settings
from zdlint.lint import lint_paths

T = "SET lock_timeout = '3s';\n"
BASE = (
    "CREATE TABLE account (id bigint PRIMARY KEY, name text);\n"
    "CREATE TYPE status AS ENUM ('new', 'done');\n"
    "CREATE VIEW account_names AS SELECT name FROM account;\n"
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def findings(folder: Path, release: list[Path], only: Path, cache: FindingsCache | None = None):
    run = lint_paths(
        [str(folder)],
        Settings(),
        load_catalogue(),
        only={only.resolve()},
        release=frozenset(p.resolve() for p in release),
        cache=cache,
    )
    assert not run.errors
    return [(f.span.line, f.code) for r in run.reports for f in r.findings]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path, "m/0001_base.sql", BASE)
    return tmp_path / "m"


def test_a_table_an_earlier_migration_of_the_release_created_is_new_to_the_running_version(
    project,
):
    first = write(project, "0002_hook.sql", T + "CREATE TABLE hook (id bigint PRIMARY KEY);\n")
    second = write(project, "0003_secret.sql", "ALTER TABLE hook ADD COLUMN s text NOT NULL;\n")
    # Each file its own release: hook may hold rows and traffic by the time 0003 runs.
    assert findings(project, [], second) == [(1, "ZD301"), (1, "ZD401")]
    # One release: hook is empty and unknown to the running version.
    assert findings(project, [first, second], second) == []


def test_a_released_table_keeps_its_findings_inside_a_release(project):
    first = write(project, "0002_hook.sql", T + "CREATE TABLE hook (id bigint PRIMARY KEY);\n")
    second = write(project, "0003_more.sql", "ALTER TABLE account ADD COLUMN x int NOT NULL;\n")
    assert findings(project, [first, second], second) == [(1, "ZD301"), (1, "ZD401")]


def test_a_column_the_release_added_can_be_dropped_and_renamed(project):
    first = write(project, "0002_nick.sql", T + "ALTER TABLE account ADD COLUMN nick text;\n")
    second = write(
        project,
        "0003_drop.sql",
        T + "ALTER TABLE account RENAME COLUMN nick TO handle;\n"
        "ALTER TABLE account DROP COLUMN handle;\n",
    )
    assert [code for _, code in findings(project, [], second)] == ["ZD302", "ZD304"]
    assert findings(project, [first, second], second) == []


def test_an_enum_label_the_release_added_is_not_lost_when_the_enum_is_replaced(project):
    first = write(project, "0002_label.sql", "ALTER TYPE status ADD VALUE 'test';\n")
    swap = (
        "BEGIN;\n"
        "CREATE TYPE status_new AS ENUM ('new', 'done');\n"
        "ALTER TYPE status RENAME TO status_old;\n"
        "ALTER TYPE status_new RENAME TO status;\n"
        "DROP TYPE status_old;\n"
        "COMMIT;\n"
    )
    second = write(project, "0003_swap.sql", swap)
    assert (5, "ZD306") in findings(project, [], second)
    assert findings(project, [first, second], second) == []
    # A label the running version knows is still lost.
    dropped = write(project, "0004_swap.sql", swap.replace("'new', ", ""))
    release = [first, second, dropped]
    lost = [code for _, code in findings(project, release, dropped)]
    assert lost == ["ZD306"]


def test_a_view_the_release_created_is_replaced_without_queueing_anyone(project):
    first = write(project, "0002_view.sql", T + "CREATE VIEW hooks AS SELECT id FROM account;\n")
    second = write(project, "0003_view.sql", "DROP VIEW hooks;\n")
    assert findings(project, [], second) == [(1, "ZD306"), (1, "ZD401")]
    assert findings(project, [first, second], second) == []


def test_a_migration_outside_the_release_after_its_start_creates_released_names(project):
    # 0002 is new on the branch, 0003 came from main after the branch was cut: what
    # 0003 created is deployed already, whatever the order of the files.
    first = write(project, "0002_new.sql", T + "CREATE TABLE hook (id bigint PRIMARY KEY);\n")
    write(project, "0003_main.sql", T + "CREATE TABLE audit (id bigint PRIMARY KEY);\n")
    last = write(project, "0004_new.sql", "ALTER TABLE audit ADD COLUMN at int NOT NULL;\n")
    assert findings(project, [first, last], last) == [(1, "ZD301"), (1, "ZD401")]


def test_cached_findings_and_snapshots_tell_a_release_from_no_release(
    project, tmp_path, monkeypatch
):
    monkeypatch.setenv("ZDLINT_CACHE_DIR", str(tmp_path / "cache"))
    for n in range(3, 40):  # long enough for a schema snapshot to be kept
        write(project, f"{n:04d}_t.sql", T + f"CREATE TABLE t{n} (id int);\n")
    first = write(project, "0040_hook.sql", T + "CREATE TABLE hook (id bigint PRIMARY KEY);\n")
    second = write(project, "0041_secret.sql", "ALTER TABLE hook ADD COLUMN s text NOT NULL;\n")
    cache = FindingsCache.open("catalogue", "settings")
    alone = findings(project, [], second, cache)
    together = findings(project, [first, second], second, cache)
    assert alone == [(1, "ZD301"), (1, "ZD401")] and together == []
    assert findings(project, [], second, cache) == alone


def test_diff_base_makes_the_added_migrations_one_release_but_not_the_modified_ones(tmp_path):
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", str(tmp_path)], check=True)
    write(tmp_path, "m/0001.sql", BASE)
    write(tmp_path, "m/0002.sql", T + "CREATE TABLE audit (id bigint PRIMARY KEY);\n")
    subprocess.run([*git, "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=tmp_path, check=True)
    # 0002 edited on the branch has run in production already: audit has rows.
    write(tmp_path, "m/0002.sql", T + "CREATE TABLE audit (id bigint PRIMARY KEY, at int);\n")
    write(tmp_path, "m/0003.sql", T + "CREATE TABLE hook (id bigint PRIMARY KEY);\n")
    write(
        tmp_path,
        "m/0004.sql",
        "ALTER TABLE hook ADD COLUMN s text NOT NULL;\n"
        "ALTER TABLE audit ADD COLUMN t text NOT NULL;\n",
    )
    result = subprocess.run(
        [sys.executable, "-m", "zdlint", "check", "-f", "concise", "--diff-base", "HEAD", "m"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    reported = [line.split(" ")[0:2] for line in result.stdout.splitlines() if "m/" in line]
    assert reported == [["m/0004.sql:2:1:", "ZD301"], ["m/0004.sql:2:1:", "ZD401"]], result.stdout
