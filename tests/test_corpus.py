"""Robustness on real migrations (../shared/corpus): every file checked, nothing raises."""

from __future__ import annotations

import pytest

from tests.support import CORPUS, lint

SQL_FILES = sorted((CORPUS / "sql").rglob("*.sql")) if (CORPUS / "sql").is_dir() else []


@pytest.mark.skipif(not SQL_FILES, reason="shared/corpus/sql is absent")
def test_every_corpus_migration_is_checked_without_error_and_spans_lie_inside_the_file():
    checked = 0
    for path in SQL_FILES:
        data = path.read_bytes()
        findings = lint(data, path)
        lines = data.decode("utf-8-sig", "replace").count("\n") + 1
        for finding in findings:
            assert 1 <= finding.span.line <= finding.span.end_line <= lines, (path, finding)
            assert "{" not in finding.message or "}" not in finding.message.split("{", 1)[1]
        checked += 1
    assert checked == len(SQL_FILES) > 1000
