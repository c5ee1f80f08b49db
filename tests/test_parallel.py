"""A batch checked on several processes reports exactly what one process does."""

from __future__ import annotations

import sys

import pytest

from zdlint import parallel
from zdlint.catalogue import load_catalogue
from zdlint.config import Settings
from zdlint.lint import lint_paths

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork pool: Linux")


def test_the_pool_gives_the_same_reports_in_the_same_order(tmp_path, monkeypatch):
    for folder in ("app", "billing"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "001_create.sql").write_text("CREATE TABLE t (id bigint);\n")
        for n in range(2, 8):
            (tmp_path / folder / f"{n:03d}_change.sql").write_text(
                f"ALTER TABLE t ADD COLUMN c{n} integer NOT NULL DEFAULT {n};\n"
                f"ALTER TABLE t ALTER COLUMN c{n} SET NOT NULL;\n"
                f"CREATE INDEX t_c{n} ON t (c{n});\n"
            )
    settings, catalogue = Settings(root=tmp_path), load_catalogue()
    serial = lint_paths([str(tmp_path)], settings, catalogue, parallel=True)
    monkeypatch.setattr(parallel, "MIN_FILES", 1)
    monkeypatch.setattr(parallel, "MIN_CORES", 1)
    assert parallel.worker_count(14) > 1
    pooled = lint_paths([str(tmp_path)], settings, catalogue, parallel=True)
    assert [r.path for r in pooled.reports] == [r.path for r in serial.reports]
    assert [r.findings for r in pooled.reports] == [r.findings for r in serial.reports]
    assert any(r.findings for r in pooled.reports)
