"""The findings cache: reused when nothing changed, bypassed when anything did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

UNSAFE = "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n"
SAFE = "CREATE TABLE t (id bigint PRIMARY KEY);\n"


def zdlint(*args: str, cwd: Path, cache: Path):
    env = {k: v for k, v in os.environ.items() if k != "FORCE_COLOR"}
    env.update({"NO_COLOR": "1", "ZDLINT_CACHE_DIR": str(cache)})
    return subprocess.run(
        [sys.executable, "-c", "from zdlint.cli import run; run()", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def entries(cache: Path) -> list[Path]:
    return sorted((cache / "findings").glob("*/*.json"))


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    (root / "migrations").mkdir(parents=True)
    (root / "migrations" / "001_unsafe.sql").write_text(UNSAFE)
    (root / "migrations" / "002_safe.sql").write_text(SAFE)
    return root


def plant_marker(cache: Path) -> None:
    """Rewrite every entry's messages, so a result read from the cache is recognisable."""
    for entry in entries(cache):
        data = json.loads(entry.read_text())
        for item in data["findings"]:
            item[8] = "FROM THE CACHE"
        entry.write_text(json.dumps(data))


def test_a_second_run_returns_the_same_findings_from_the_cache(project, tmp_path):
    cache = tmp_path / "cache"
    first = zdlint("check", "migrations", "-f", "json", cwd=project, cache=cache)
    assert len(entries(cache)) == 2
    second = zdlint("check", "migrations", "-f", "json", cwd=project, cache=cache)
    assert (
        (second.returncode, second.stdout) == (first.returncode, first.stdout) == (1, first.stdout)
    )
    plant_marker(cache)
    third = zdlint("check", "migrations", "-f", "concise", cwd=project, cache=cache)
    assert "FROM THE CACHE" in third.stdout


def test_changing_the_file_bypasses_the_cache(project, tmp_path):
    cache = tmp_path / "cache"
    zdlint("check", "migrations", cwd=project, cache=cache)
    plant_marker(cache)
    (project / "migrations" / "001_unsafe.sql").write_text("-- now safe\n" + SAFE)
    result = zdlint("check", "migrations", "-f", "concise", cwd=project, cache=cache)
    assert "FROM THE CACHE" not in result.stdout
    assert result.returncode == 0


def test_changing_the_settings_bypasses_the_cache(project, tmp_path):
    cache = tmp_path / "cache"
    zdlint("check", "migrations", cwd=project, cache=cache)
    plant_marker(cache)
    (project / "zdlint.toml").write_text("pg-version = 12\n")
    result = zdlint("check", "migrations", "-f", "concise", cwd=project, cache=cache)
    assert "FROM THE CACHE" not in result.stdout
    assert result.returncode == 1


def test_an_earlier_migration_changing_bypasses_the_cache_of_later_ones(project, tmp_path):
    cache = tmp_path / "cache"
    zdlint("check", "migrations", cwd=project, cache=cache)
    plant_marker(cache)
    (project / "migrations" / "000_first.sql").write_text(SAFE.replace(" t ", " t0 "))
    result = zdlint("check", "migrations", "-f", "concise", cwd=project, cache=cache)
    assert "FROM THE CACHE" not in result.stdout


def test_no_cache_checks_again_and_writes_nothing(project, tmp_path):
    cache = tmp_path / "cache"
    zdlint("check", "migrations", cwd=project, cache=cache)
    plant_marker(cache)
    result = zdlint("check", "--no-cache", "migrations", "-f", "concise", cwd=project, cache=cache)
    assert "FROM THE CACHE" not in result.stdout
    assert result.returncode == 1
    other = tmp_path / "other"
    zdlint("check", "--no-cache", "migrations", cwd=project, cache=other)
    assert entries(other) == []


def test_a_corrupt_cache_entry_is_ignored(project, tmp_path):
    cache = tmp_path / "cache"
    first = zdlint("check", "migrations", "-f", "json", cwd=project, cache=cache)
    junk = (b"\x00not json", b'{"key": 1, "findings": [[]]}')
    for entry, bad in zip(entries(cache), junk, strict=True):
        entry.write_bytes(bad)
    second = zdlint("check", "migrations", "-f", "json", cwd=project, cache=cache)
    assert (second.returncode, second.stdout, second.stderr) == (1, first.stdout, "")


def test_a_cache_that_cannot_be_written_is_not_an_error(project, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # a folder cannot be made under a file, even by root
    result = zdlint("check", "migrations", "-f", "concise", cwd=project, cache=blocker / "cache")
    assert (result.returncode, result.stderr) == (1, "")
    assert "ZD" in result.stdout


def test_a_cached_finding_keeps_its_place_among_its_statements_findings():
    from zdlint.cache import _entry, _finding
    from zdlint.findings import Finding, Severity, Span

    finding = Finding(
        "ZD304", "drop-column", Severity.WARNING, "m.sql", Span(3, 3, 3, 16), "m", place=(2, 1, 1)
    )
    assert _finding(json.loads(json.dumps(_entry(finding)))) == finding
    unplaced = Finding(
        "ZD002", "unused-suppression", Severity.WARNING, "m.sql", Span(1, 1, 1, 9), "m"
    )
    assert _finding(json.loads(json.dumps(_entry(unplaced)))) == unplaced
