"""The wheel ships the rule catalogue, and an installed zdlint finds it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_contains_every_rule_file(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("zdlint-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    rule_files = {p.name for p in (ROOT / "rules").glob("*.toml")}
    assert rule_files
    assert {f"zdlint/_rules/{name}" for name in rule_files} <= names
    assert "zdlint/cli.py" in names
    assert "zdlint/sql/pg_functions.txt" in names  # the pg_proc volatility facts
    assert "zdlint/sql/pg_casts.txt" in names  # the pg_cast assignment facts
    entry_points = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    )
    assert b"zdlint = zdlint.cli:run" in entry_points
