"""The README's CI, adoption and pre-commit snippets, run as written in a fresh git
repository cloned shallowly (as CI providers clone): the `zdlint check` commands work,
or fail with the message the README documents, and the documented fix makes them work.

Left out, since they need the network: the `pip install` lines and pre-commit cloning
the hook's repository (the hook's entry is run here on the files pre-commit would pass).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
UNSAFE = "CREATE INDEX users_email ON users (email);\n"


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, re.M | re.S)


def section(title: str) -> str:
    start = README.index(f"\n### {title}\n")
    end = README.find("\n#", start + 1)
    return README[start:end]


def ci_commands() -> list[str]:
    """The `run:` steps of the README's GitHub Actions snippet that call zdlint check."""
    (snippet,) = [b for b in blocks("yaml") if "actions/checkout" in b]
    steps = yaml.safe_load(snippet)
    return [step["run"] for step in steps if step.get("run", "").startswith("zdlint check")]


def adoption_commands() -> list[str]:
    (snippet,) = re.findall(
        r"```sh\n(.*?)```", section("Adopting zdlint on an existing repository"), re.S
    )
    return [
        line.split("  #")[0].strip() for line in snippet.splitlines() if line.startswith("zdlint")
    ]


def run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A snippet's command line, with `zdlint` run by this interpreter and `|| true` as
    the shell would do it."""
    allowed_failure = command.endswith("|| true")
    words = shlex.split(command.removesuffix("|| true"))
    assert words[0] == "zdlint"
    environment = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "zdlint", *words[1:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    if allowed_failure and result.returncode != 0:
        result.returncode = 0
    return result


def git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def shallow_clone(tmp_path: Path) -> Path:
    """A project whose main has one migration and whose pull request branch adds an
    unsafe one, cloned with `--depth 1` as actions/checkout does by default."""
    origin = tmp_path / "origin"
    migrations = origin / "db" / "migrations"
    migrations.mkdir(parents=True)
    git("init", "-q", "-b", "main", ".", cwd=origin)
    (migrations / "0001_users.sql").write_text("CREATE TABLE users (id bigint, email text);\n")
    git("add", ".", cwd=origin)
    git("commit", "-qm", "users", cwd=origin)
    git("checkout", "-qb", "feature", cwd=origin)
    (migrations / "0002_index.sql").write_text(UNSAFE)
    git("add", ".", cwd=origin)
    git("commit", "-qm", "index", cwd=origin)
    git("checkout", "-q", "main", cwd=origin)
    (migrations / "0003_later.sql").write_text("ALTER TABLE users ADD COLUMN age int;\n")
    git("add", ".", cwd=origin)
    git("commit", "-qm", "later", cwd=origin)
    clone = tmp_path / "clone"
    git(
        "clone", "-q", "--depth", "1", "--no-single-branch", "-b", "feature",
        origin.as_uri(), str(clone), cwd=tmp_path,
    )  # fmt: skip
    return clone


def test_the_readme_ci_snippet_asks_for_the_full_history_it_needs():
    (snippet,) = [b for b in blocks("yaml") if "actions/checkout" in b]
    checkout = yaml.safe_load(snippet)[0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"] == {"fetch-depth": 0}
    assert any("--diff-base" in command for command in ci_commands())


def test_the_ci_commands_on_a_shallow_clone_fail_saying_what_to_fetch_then_work(shallow_clone):
    for command in ci_commands():
        result = run(command, shallow_clone)
        if "--diff-base" in command:
            assert result.returncode == 2, command
            assert "`fetch-depth: 0` in actions/checkout" in result.stderr
            assert "git fetch --unshallow" in result.stderr
        else:
            assert result.returncode in (0, 1), command + result.stderr
    # what the message says to do (fetch-depth: 0 clones the same history)
    git("fetch", "-q", "--unshallow", cwd=shallow_clone)
    for command in ci_commands():
        result = run(command, shallow_clone)
        assert result.returncode in (0, 1), command + result.stderr
        if "--diff-base" in command:
            assert result.returncode == 1
            annotations = result.stdout.splitlines()
            assert annotations and all("db/migrations/0002_index.sql" in a for a in annotations)
    sarif = json.loads((shallow_clone / "zdlint.sarif").read_text())
    assert sarif["runs"][0]["results"]


def test_the_adoption_commands_accept_todays_findings_and_report_new_ones(shallow_clone):
    statistics, write, check = adoption_commands()
    assert "--statistics" in statistics and "--write-baseline" in write and "--baseline" in check
    result = run(statistics, shallow_clone)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].split("\t")[1:] == [
        "ZD102",
        "[*] create-index-non-concurrently",
    ]
    assert run(write, shallow_clone).returncode == 0
    assert run(check, shallow_clone).returncode == 0
    (shallow_clone / "db" / "migrations" / "0004_more.sql").write_text(
        "CREATE INDEX users_id ON users (id);\n"
    )
    result = run(check, shallow_clone)
    assert result.returncode == 1 and "0004_more.sql" in result.stdout
    assert "0002_index.sql" not in result.stdout


def test_the_pre_commit_snippet_names_the_repositorys_hook_and_a_commit_to_pin():
    (snippet,) = [b for b in blocks("yaml") if "rev:" in b]
    (repo,) = yaml.safe_load(snippet)["repos"]
    (hook,) = repo["hooks"]
    (manifest,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == manifest["id"]
    assert repo["rev"] == "COMMIT_SHA" and "until a v0.x.y tag exists" in snippet


def test_the_pre_commit_hook_checks_the_files_pre_commit_passes_honouring_exclude(
    shallow_clone,
):
    (snippet,) = [b for b in blocks("yaml") if "rev:" in b]
    (hook,) = yaml.safe_load(snippet)["repos"][0]["hooks"]
    (manifest,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    files = sorted(
        path.relative_to(shallow_clone).as_posix()
        for path in (shallow_clone / "db" / "migrations").iterdir()
    )
    staged = [name for name in files if re.search(hook["files"], name)]
    assert staged == ["db/migrations/0001_users.sql", "db/migrations/0002_index.sql"]
    entry = manifest["entry"] + " " + " ".join(staged)
    result = run(entry, shallow_clone)
    assert result.returncode == 1 and "0002_index.sql" in result.stdout
    (shallow_clone / "zdlint.toml").write_text('exclude = ["db/migrations/0002_*"]\n')
    result = run(entry, shallow_clone)
    assert (result.returncode, result.stdout) == (0, "All checks passed.\n")
