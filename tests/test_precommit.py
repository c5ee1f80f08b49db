"""The pre-commit hook manifest is valid for pre-commit itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / ".pre-commit-hooks.yaml"


def test_hook_manifest_passes_pre_commits_validate_manifest():
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(MANIFEST)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_validate_manifest_would_catch_a_broken_hook(tmp_path):
    broken = tmp_path / ".pre-commit-hooks.yaml"
    broken.write_text(MANIFEST.read_text().replace("entry:", "entri:"))
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(broken)],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0


def test_hook_runs_zdlint_check_on_sql_and_yaml():
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "zdlint"
    assert hook["entry"] == "zdlint check --force-exclude"
    assert set(hook["types_or"]) == {"sql", "yaml"}


def test_readme_documents_a_files_pattern_for_a_migrations_folder():
    readme = (ROOT / "README.md").read_text()
    assert "- id: zdlint" in readme and "files: ^db/migrations/" in readme
