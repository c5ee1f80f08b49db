"""Adopting zdlint on an existing repository: baseline, start-after, statistics, quiet,
exclude, .gitignore, config errors, the empty run, and --diff-base against a merge-base
(also on a shallow clone)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.test_cli import zdlint

INDEX = "CREATE INDEX users_age ON users (age);\n"
INDEX_B = "CREATE INDEX users_b ON users (b);\n"
INDEX_C = "CREATE INDEX users_c ON users (c);\n"


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def concise(*args: str, cwd: Path) -> tuple[int, list[str], str]:
    result = zdlint("check", "-f", "concise", *args, cwd=cwd)
    return result.returncode, result.stdout.decode().splitlines(), result.stderr.decode()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "0001_a.sql").write_text(INDEX)
    (tmp_path / "migrations" / "0002_b.sql").write_text(INDEX_B)
    return tmp_path


def test_a_baseline_hides_the_recorded_findings_even_when_their_lines_move(repo):
    written = zdlint("check", "--write-baseline", "zdlint-baseline.json", "migrations", cwd=repo)
    assert written.returncode == 0
    assert b"wrote 4 findings to zdlint-baseline.json" in written.stderr
    document = json.loads((repo / "zdlint-baseline.json").read_text())
    assert document["version"] == 1
    assert {(e["path"], e["code"]) for e in document["findings"]} == {
        ("migrations/0001_a.sql", "ZD102"),
        ("migrations/0001_a.sql", "ZD401"),
        ("migrations/0002_b.sql", "ZD102"),
        ("migrations/0002_b.sql", "ZD401"),
    }
    (repo / "migrations" / "0001_a.sql").write_text("-- a comment\n\n" + INDEX)
    code, lines, _ = concise("--baseline", "zdlint-baseline.json", "migrations", cwd=repo)
    assert (code, lines) == (0, ["All checks passed."])

    (repo / "migrations" / "0003_c.sql").write_text(INDEX_C)
    code, lines, _ = concise("--baseline", "zdlint-baseline.json", "migrations", cwd=repo)
    assert code == 1
    assert [line.split(": ")[0] for line in lines[:-1]] == ["migrations/0003_c.sql:1:1"] * 2


def test_a_second_identical_finding_in_a_file_is_new_to_the_baseline(repo):
    assert zdlint("check", "--write-baseline", "b.json", "migrations", cwd=repo).returncode == 0
    (repo / "migrations" / "0002_b.sql").write_text(INDEX_B + INDEX_B)
    code, lines, _ = concise("--baseline", "b.json", "migrations", cwd=repo)
    assert code == 1
    assert {line.split(" ")[0] for line in lines[:-1]} == {"migrations/0002_b.sql:2:1:"}


def test_the_baseline_holds_from_another_folder_and_from_the_config(repo):
    assert zdlint("check", "--write-baseline", "b.json", "migrations", cwd=repo).returncode == 0
    inside = concise("--baseline", "../b.json", ".", cwd=repo / "migrations")
    assert inside[0] == 0
    (repo / "pyproject.toml").write_text('[tool.zdlint]\nbaseline = "b.json"\n')
    assert concise("migrations", cwd=repo)[0] == 0


def test_a_missing_or_foreign_baseline_is_an_error(repo):
    code, _, stderr = concise("--baseline", "nope.json", "migrations", cwd=repo)
    assert code == 2
    assert "nope.json: baseline file not found; write one with `zdlint check --write-baseline" in (
        stderr
    )
    (repo / "other.json").write_text('{"runs": []}')
    code, _, stderr = concise("--baseline", "other.json", "migrations", cwd=repo)
    assert code == 2 and "other.json: not a zdlint baseline" in stderr


def test_start_after_reports_only_later_migrations_but_replays_the_earlier_ones(repo):
    (repo / "migrations" / "0001_a.sql").write_text("CREATE TABLE users (id bigint, age int);\n")
    (repo / "migrations" / "0002_b.sql").write_text(INDEX_B)
    # a later index on the table 0001 created in another release is judged with that history
    (repo / "migrations" / "0003_c.sql").write_text(INDEX_C)
    (repo / "pyproject.toml").write_text('[tool.zdlint]\nstart-after = "0002"\n')
    code, lines, _ = concise("migrations", cwd=repo)
    assert code == 1
    assert {line.split(":")[0] for line in lines[:-1]} == {"migrations/0003_c.sql"}
    (repo / "pyproject.toml").write_text('[tool.zdlint]\nstart-after = "0003_c.sql"\n')
    assert concise("migrations", cwd=repo)[1] == ["All checks passed."]


def test_start_after_matches_a_per_folder_migration_by_its_folder(tmp_path):
    for name, sql in (("20240101000000_a", INDEX), ("20240201000000_b", INDEX_B)):
        (tmp_path / "prisma" / name).mkdir(parents=True)
        (tmp_path / "prisma" / name / "migration.sql").write_text(sql)
    (tmp_path / "zdlint.toml").write_text("start-after = 20240101000000\n")
    code, lines, _ = concise("prisma", cwd=tmp_path)
    assert {line.split(":")[0] for line in lines[:-1]} == {"prisma/20240201000000_b/migration.sql"}


def test_a_start_after_that_is_not_a_name_is_a_config_error(repo):
    (repo / "zdlint.toml").write_text("start-after = true\n")
    code, _, stderr = concise("migrations", cwd=repo)
    assert code == 2 and "start-after must be a migration name or version" in stderr


def test_statistics_count_findings_per_rule_then_the_summary(repo):
    (repo / "migrations" / "0003_c.sql").write_text("ALTER TABLE users ADD COLUMN d int;\n")
    result = zdlint("check", "--statistics", "migrations", cwd=repo)
    assert result.returncode == 1
    assert result.stdout.decode().splitlines() == [
        "3\tZD401\t[*] missing-lock-timeout",
        "2\tZD102\t[*] create-index-non-concurrently",
        "Found 5 findings (2 errors, 3 warnings, 0 info) in 3 files.",
    ]


def test_quiet_prints_the_findings_without_the_summary(repo):
    code, lines, _ = concise("-q", "migrations", cwd=repo)
    assert code == 1 and len(lines) == 4 and not any("Found" in line for line in lines)
    full = zdlint("check", "--quiet", "migrations", cwd=repo).stdout.decode()
    assert full.count("ZD102") == 2 and "Found" not in full and "fixable with" not in full
    clean = zdlint("check", "-q", "--select", "ZD001", "migrations", cwd=repo)
    assert (clean.returncode, clean.stdout) == (0, b"")


def test_exclude_leaves_out_walked_files_and_named_ones_only_when_forced(repo):
    assert concise("--exclude", "*0002*", "migrations", cwd=repo)[1][-1].endswith("in 1 file.")
    named = ["--exclude", "migrations/0002_b.sql", "migrations/0002_b.sql"]
    assert concise(*named, cwd=repo)[0] == 1  # named on the command line: checked
    assert concise(*named, "--force-exclude", cwd=repo)[1] == ["No files to check."]
    # pre-commit names the files; the config's exclude and force-exclude apply to them
    (repo / "zdlint.toml").write_text('exclude = ["migrations/0002_*"]\nforce-exclude = true\n')
    assert concise("migrations/0001_a.sql", "migrations/0002_b.sql", cwd=repo)[1][-1].endswith(
        "in 1 file."
    )


def test_gitignored_files_are_left_out_of_a_folder_walk_but_not_when_named(repo):
    git("init", "-q", ".", cwd=repo)
    (repo / ".gitignore").write_text("migrations/0002_b.sql\n")
    assert concise("migrations", cwd=repo)[1][-1].endswith("in 1 file.")
    assert concise("migrations/0002_b.sql", cwd=repo)[0] == 1


def test_outside_a_git_repository_nothing_is_ignored(repo):
    (repo / ".gitignore").write_text("migrations/0002_b.sql\n")
    assert concise("migrations", cwd=repo)[1][-1].endswith("in 2 files.")


def test_a_malformed_pyproject_is_an_error_naming_file_and_position(repo):
    (repo / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.zdlint\n')
    code, _, stderr = concise("migrations", cwd=repo)
    assert code == 2
    assert "pyproject.toml: invalid TOML:" in stderr and "(at line 3, column 13)" in stderr


def test_all_checks_passed_only_when_a_file_was_checked(tmp_path):
    (tmp_path / "empty").mkdir()
    result = zdlint("check", "empty", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, b"No files to check.\n")


def _branch_repo(tmp_path: Path) -> Path:
    """main: 0001; branch `feature` off it adds 0002; main then adds 0003 (not merged)."""
    origin = tmp_path / "origin"
    (origin / "m").mkdir(parents=True)
    git("init", "-q", "-b", "main", ".", cwd=origin)
    (origin / "m" / "0001_a.sql").write_text("CREATE TABLE users (id bigint, b int, c int);\n")
    git("add", ".", cwd=origin)
    git("commit", "-qm", "one", cwd=origin)
    git("checkout", "-qb", "feature", cwd=origin)
    (origin / "m" / "0002_b.sql").write_text(INDEX_B)
    git("add", ".", cwd=origin)
    git("commit", "-qm", "two", cwd=origin)
    git("checkout", "-q", "main", cwd=origin)
    (origin / "m" / "0003_c.sql").write_text(INDEX_C)
    git("add", ".", cwd=origin)
    git("commit", "-qm", "three", cwd=origin)
    git("checkout", "-q", "feature", cwd=origin)
    return origin


def test_diff_base_compares_with_the_merge_base_not_the_tip_of_the_ref(tmp_path):
    origin = _branch_repo(tmp_path)
    # against main's tip, 0003 would look deleted and 0002 changed; from the merge-base
    # only the branch's own migration is reported
    code, lines, _ = concise("--diff-base", "main", "m", cwd=origin)
    assert code == 1
    assert {line.split(":")[0] for line in lines[:-1]} == {"m/0002_b.sql"}


def test_diff_base_on_a_shallow_clone_says_how_to_fetch_the_history(tmp_path):
    origin = _branch_repo(tmp_path)
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", "--no-single-branch", origin.as_uri(), str(clone)],
        check=True,
        capture_output=True,
    )
    code, lines, stderr = concise("--diff-base", "origin/main", "m", cwd=clone)
    assert (code, lines) == (2, [])
    assert "the merge-base of origin/main and HEAD is not in this clone" in stderr
    assert "`fetch-depth: 0` in actions/checkout" in stderr
    assert "git fetch --unshallow" in stderr and "git fetch --deepen=" in stderr
    git("fetch", "-q", "--unshallow", cwd=clone)
    assert concise("--diff-base", "origin/main", "m", cwd=clone)[0] == 1


def test_diff_base_names_a_missing_ref_and_on_a_shallow_clone_how_to_fetch_it(tmp_path):
    origin = _branch_repo(tmp_path)
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", origin.as_uri(), str(clone)],
        check=True,
        capture_output=True,
    )
    code, _, stderr = concise("--diff-base", "origin/main", "m", cwd=clone)
    assert code == 2
    assert "--diff-base origin/main: no such revision; the clone is shallow" in stderr
    assert "`git fetch origin <branch>`" in stderr
