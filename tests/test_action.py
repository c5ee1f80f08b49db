"""The GitHub Action's script (zdlint/action.py), run as the action runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.test_fix import _git as git
from zdlint.action import SUMMARY_LIMIT, markdown_summary, settings

ROOT = Path(__file__).resolve().parent.parent


def pull_request(tmp_path: Path) -> Path:
    """A repository whose branch adds one migration to what origin/main holds."""
    repo = tmp_path / "repo"
    (repo / "migrations").mkdir(parents=True)
    (repo / "migrations" / "0001_init.sql").write_text(
        "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n"
        "CREATE INDEX users_email ON users (email);\n"  # a finding, but not in this change
    )
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "init")
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "migrations" / "0002_nick.sql").write_text(
        "ALTER TABLE users ADD COLUMN nick text;\nALTER TABLE users ADD COLUMN age int NOT NULL;\n"
    )
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "nick")
    return repo


def run_action(repo: Path, tmp_path: Path, **inputs: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "GITHUB_BASE_REF": "main",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
        "ZDLINT_PATHS": "migrations",
        **inputs,
    }
    return subprocess.run(
        [sys.executable, "-m", "zdlint.action"], cwd=repo, env=env, capture_output=True, text=True
    )


def test_a_pull_request_gets_annotations_a_summary_with_the_fix_and_sarif(tmp_path):
    repo = pull_request(tmp_path)
    sarif = tmp_path / "zdlint.sarif"
    done = run_action(repo, tmp_path, ZDLINT_SARIF_FILE=str(sarif))
    assert done.returncode == 1, done.stderr
    annotations = [line for line in done.stdout.splitlines() if line.startswith("::")]
    assert any(
        line.startswith("::warning") and "file=migrations/0002_nick.sql,line=1" in line
        for line in annotations
    )
    assert all("0001_init" not in line for line in annotations)

    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("## zdlint\n")
    assert "2 finding(s) in 1 file(s) (1 error, 1 warning)." in summary
    assert "| `ZD401` missing-lock-timeout | warning | 1 | 1 |" in summary
    assert "| migrations/0002_nick.sql | 1 | `ZD401` (fixable) |" in summary
    assert "| migrations/0002_nick.sql | 2 | `ZD301` (fixable) |" in summary
    assert "0001_init" not in summary
    assert "```diff\n--- a/migrations/0002_nick.sql\n+++ b/migrations/0002_nick.sql\n" in summary
    assert "+SET lock_timeout = '3s';" in summary

    report = json.loads(sarif.read_text())
    results = report["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"ZD401", "ZD301"}
    assert (tmp_path / "output.txt").read_text() == f"sarif-file={sarif}\n"


def test_a_clean_change_passes_and_says_so(tmp_path):
    repo = pull_request(tmp_path)
    (repo / "migrations" / "0002_nick.sql").write_text(
        "SET lock_timeout = '3s';\nALTER TABLE users ADD COLUMN nick text;\n"
    )
    git(repo, "commit", "-q", "-am", "safe")
    done = run_action(repo, tmp_path)
    assert done.returncode == 0, done.stderr
    summary = (tmp_path / "summary.md").read_text()
    assert "No findings in the files this change touches." in summary
    assert not (tmp_path / "output.txt").exists()  # no SARIF asked for


def test_a_failing_check_shows_its_error_in_the_summary(tmp_path):
    repo = pull_request(tmp_path)
    done = run_action(repo, tmp_path, ZDLINT_DIFF_BASE="origin/nowhere")
    assert done.returncode == 2
    summary = (tmp_path / "summary.md").read_text()
    assert "zdlint could not check everything:" in summary
    assert "origin/nowhere" in summary


def test_the_inputs_come_from_the_environment():
    assert settings({"GITHUB_BASE_REF": "main"}) == (
        ["."],
        ["--diff-base", "origin/main"],
        [],
        None,
    )
    paths, base, extra, sarif = settings(
        {
            "GITHUB_BASE_REF": "main",
            "ZDLINT_PATHS": "db/migrations\ndeploy",
            "ZDLINT_DIFF_BASE": "origin/release",
            "ZDLINT_ARGS": "--select ZD1 --pg-version 16",
            "ZDLINT_SARIF_FILE": "out.sarif",
        }
    )
    assert paths == ["db/migrations", "deploy"]
    assert base == ["--diff-base", "origin/release"]
    assert extra == ["--select", "ZD1", "--pg-version", "16"]
    assert sarif == "out.sarif"
    assert settings({})[1] == []  # a push, not a pull request: every file is judged


def finding(line: int, message: str = "m", fixable: bool = False) -> dict[str, object]:
    return {
        "code": "ZD101",
        "rule": "r",
        "severity": "error",
        "path": "a|b.sql",
        "line": line,
        "message": message,
        "fixable": fixable,
    }


def test_table_cells_escape_pipes_and_long_reports_are_cut():
    summary = markdown_summary([finding(1, "x | y")], "")
    assert "| a\\|b.sql | 1 | `ZD101` | x \\| y |" in summary
    many = markdown_summary([finding(i) for i in range(SUMMARY_LIMIT + 5)], "")
    assert f"| `ZD101` r | error | {SUMMARY_LIMIT + 5} | 1 |" in many
    assert "| … | | | 5 more |" in many


def test_the_action_installs_from_its_own_checkout_and_runs_the_script():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    install, check, upload = action["runs"]["steps"]
    assert 'install --quiet "$GITHUB_ACTION_PATH"' in install["run"]
    assert check["run"].endswith('/bin/python" -m zdlint.action')
    assert set(check["env"]) == {
        "ZDLINT_PATHS",
        "ZDLINT_DIFF_BASE",
        "ZDLINT_ARGS",
        "ZDLINT_SARIF_FILE",
    }
    assert "origin/{0}" in check["env"]["ZDLINT_DIFF_BASE"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
