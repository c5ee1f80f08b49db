"""`zdlint fix` round trip on a real PostgreSQL over a deterministic sample of the corpus.

benchmarks/fix_roundtrip/run.py runs every fixed file of ../shared/corpus (the benchmark,
an hour or more); this test runs about one file in ZDLINT_ROUNDTRIP_SAMPLE (default 64, a
subset of RESULTS.md's one in 8; 1 for all of them) and fails on any failure not recorded
in known_failures.tsv beside the script: the failures that belong to the planners
(RESULTS.md lists them). Without the corpus it is skipped.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import sys
from pathlib import Path

import pytest

from zdlint.pg.apply import ApplyError, apply_as_tool
from zdlint.pg.server import PgServer

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "fix_roundtrip" / "run.py"
SAMPLE = int(os.environ.get("ZDLINT_ROUNDTRIP_SAMPLE", "64"))


def _load_script():
    spec = importlib.util.spec_from_file_location("fix_roundtrip_run", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


roundtrip = _load_script()
CORPUS: Path = roundtrip.DEFAULT_CORPUS


def _known_failures() -> set[tuple[str, str]]:
    path = SCRIPT.parent / "known_failures.tsv"
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    rows = csv.DictReader([ln for ln in lines if not ln.startswith("#")], delimiter="\t")
    return {(row["project"], row["file"]) for row in rows}


@pytest.mark.skipif(not (CORPUS / "MANIFEST.tsv").exists(), reason=f"the corpus is not at {CORPUS}")
def test_sampled_corpus_fixes_apply_reach_the_same_schema_and_keep_every_row(
    pg_server: PgServer,
):
    cases = []
    chosen = roundtrip.sampler(SAMPLE)
    for project in roundtrip.PROJECTS:
        found, _ = roundtrip.run_project(
            CORPUS, project, pg_server, roundtrip.SEED_ROWS, chosen, lambda _line: None
        )
        cases += found
    assert sum(c.status == roundtrip.PASSED for c in cases) >= len(cases) // 2, (
        "most sampled fixes round-trip"
    )
    known = _known_failures()
    new = [
        f"{c.project}/{c.file} [{', '.join(sorted(set(c.fixed)))}]: {c.detail}"
        for c in cases
        if c.status == roundtrip.FAILED and (c.project, c.file) not in known
    ]
    assert not new, "fixes that fail the round trip:\n" + "\n".join(new)


def test_a_batch_tool_file_runs_as_one_query_in_the_implicit_block(pg_conn):
    """Prisma sends the file as one query: CONCURRENTLY beside another statement fails."""
    path = Path("migrations/20240101000000_x/migration.sql")
    with pytest.raises(ApplyError, match="cannot run inside a transaction block"):
        apply_as_tool(
            pg_conn, path, "CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY i ON t (a);\n"
        )
    apply_as_tool(pg_conn, path, "CREATE TABLE t (a int);\n")
    apply_as_tool(pg_conn, path, "CREATE INDEX CONCURRENTLY i ON t (a);\n")
    assert pg_conn.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'i'").fetchone() == (
        1,
    )


def test_schema_comparison_ignores_order_and_frozen_instants_but_not_columns():
    table_ab = "--\nCREATE TABLE t (\n    a int,\n    b int\n);\n"
    table_ba = "--\nCREATE TABLE t (\n    b int,\n    a int\n);\n"
    dump_a = table_ab + "--\nCREATE VIEW v AS SELECT '2024-01-01 00:00:01'::timestamp;\n"
    dump_b = "--\nCREATE VIEW v AS SELECT '2025-02-02 10:00:00.5'::timestamp;\n" + table_ba
    assert roundtrip.normalised_schema(dump_a, True) == roundtrip.normalised_schema(dump_b, True)
    assert roundtrip.normalised_schema(dump_a, False) != roundtrip.normalised_schema(dump_b, False)


def test_lost_rows_and_changed_values_are_reported():
    original = {"t": (3, {"a": (3, "x"), "b": (3, "y")})}
    assert "3 rows after the original, 2 after the fix" in roundtrip.data_difference(
        original, {"t": (2, {"a": (2, "x"), "b": (2, "y")})}, set()
    )
    assert "t.b: values differ" in roundtrip.data_difference(
        original, {"t": (3, {"a": (3, "x"), "b": (3, "z")})}, set()
    )
    assert (
        roundtrip.data_difference(
            original, {"t": (3, {"a": (3, "x"), "b": (3, "z")})}, {("t", "b")}
        )
        == ""
    )
