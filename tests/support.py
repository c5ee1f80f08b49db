"""Small helpers the tests share: lint a string the way `zdlint check` lints a file."""

from __future__ import annotations

import tempfile
from dataclasses import replace
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
    """Findings for `source` checked as the file `path` (which need not exist); with the
    `schema` setting, after the schema that file seeds (and no folder history)."""
    from zdlint.lint import new_history

    data = source.encode("utf-8") if isinstance(source, str) else source
    target_path = Path(path)
    target = Target(str(path), target_path, kind_of_name(target_path))
    options = Settings(**settings)
    history = new_history(replace(options, history=False)) if options.schema else None
    report = lint_bytes(str(path), target, data, options, load_catalogue(), history)
    return list(report.findings)


def codes(source: str | bytes, path: str | Path = "migration.sql", **settings: Any) -> list[str]:
    return [f.code for f in lint(source, path, **settings)]


def lint_after(history: str, source: str, **settings: Any) -> list[Finding]:
    """Findings for `source` checked after `history`, an earlier migration of its folder
    (so the schema model knows what `history` created, as an existing schema)."""
    from zdlint.catalogue import load_catalogue as catalogue
    from zdlint.lint import lint_paths

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "1_history.sql").write_text(history, encoding="utf-8")
        target = Path(folder) / "2_change.sql"
        target.write_text(source, encoding="utf-8")
        run = lint_paths([str(target)], Settings(**settings), catalogue())
        return list(run.reports[0].findings)
