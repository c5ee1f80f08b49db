"""`zdlint check` of SQL loads only what it uses: start-up time is most of a
pre-commit run."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PROBE = """
import json, sys
from zdlint.cli import main
try:
    main(["check", *sys.argv[1:]], standalone_mode=False)
except SystemExit:
    pass
sys.stdout.flush()
print("\\nMODULES=" + json.dumps(sorted(sys.modules)), file=sys.stderr)
"""

NEVER = ("jinja2", "psycopg", "zdlint.k8s", "zdlint.pg", "zdlint.fix", "yaml", "multiprocessing")


def loaded_modules(tmp_path, *args: str, env: dict[str, str] | None = None) -> set[str]:
    (tmp_path / "001_add.sql").write_text("ALTER TABLE users ADD COLUMN age integer;\n")
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "--no-cache", *args, "001_add.sql"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    line = [x for x in result.stderr.splitlines() if x.startswith("MODULES=")]
    assert line, result.stderr
    return set(json.loads(line[0].removeprefix("MODULES=")))


@pytest.mark.parametrize("fmt", ["full", "json"])
def test_checking_one_sql_file_imports_no_engine_templates_or_manifest_code(tmp_path, fmt):
    modules = loaded_modules(tmp_path, "-f", fmt)
    for name in NEVER:
        assert not any(m == name or m.startswith(name + ".") for m in modules), name
    reporters = {m for m in modules if m.startswith("zdlint.report.")}
    assert f"zdlint.report.{'json_report' if fmt == 'json' else fmt}" in reporters
    unused = {"sarif", "junit", "gitlab", "github", "json_lines", "concise"}
    assert not {f"zdlint.report.{name}" for name in unused} & reporters


def test_a_check_without_the_findings_cache_parses_no_toml_and_hashes_nothing(tmp_path):
    """Once the catalogue is compiled (the first run), rule files are neither parsed nor
    hashed, and no config file means no TOML at all."""
    env = {**os.environ, "ZDLINT_CACHE_DIR": str(tmp_path / "cache")}
    first = loaded_modules(tmp_path, env=env)
    assert "tomllib" in first or "tomli" in first  # the rule files were parsed once
    modules = loaded_modules(tmp_path, env=env)
    for name in ("tomllib", "tomli", "hashlib", "difflib", "zdlint.atomic"):
        assert name not in modules, name
