"""Small helpers the tests share: lint a string the way `zdlint check` lints a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zdlint.catalogue import load_catalogue
from zdlint.config import Settings
from zdlint.discover import Target, kind_of_name
from zdlint.findings import Finding
from zdlint.lint import lint_bytes

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def lint(
    source: str | bytes,
    path: str | Path = "migration.sql",
    **settings: Any,
) -> list[Finding]:
    """Findings for `source` checked as the file `path` (which need not exist)."""
    data = source.encode("utf-8") if isinstance(source, str) else source
    target_path = Path(path)
    target = Target(str(path), target_path, kind_of_name(target_path))
    report = lint_bytes(str(path), target, data, Settings(**settings), load_catalogue())
    return list(report.findings)


def codes(source: str | bytes, path: str | Path = "migration.sql", **settings: Any) -> list[str]:
    return [f.code for f in lint(source, path, **settings)]
