"""Tracing statements on a real server: locks, rewrites, scans, timeouts."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result

from zdlint.pg.scratch import Database
from zdlint.pg.server import PgServer
from zdlint.pg.trace import StatementTrace, TraceError, run_trace
from zdlint.pg.trace_cli import trace as trace_command

SETUP = "CREATE TABLE t (id int PRIMARY KEY, c text, v varchar(10), n int);"
ROWS = 50_000


def _only(traces: tuple[StatementTrace, ...]) -> StatementTrace:
    assert len(traces) == 1
    assert traces[0].error is None, traces[0].error
    return traces[0]


def _trace(database: Database, sql: str, **options: object) -> StatementTrace:
    options.setdefault("seed_rows", ROWS)
    return _only(run_trace(database, [SETUP], sql, **options).statements)  # type: ignore[arg-type]


def test_set_not_null_takes_access_exclusive_and_scans_the_table(pg_database: Database) -> None:
    trace = _trace(pg_database, "ALTER TABLE t ALTER COLUMN c SET NOT NULL")
    assert trace.strongest_lock("t").mode == "AccessExclusiveLock"  # type: ignore[union-attr]
    assert trace.scans == ("t",)
    assert trace.rewrites == ()


def test_create_index_takes_share_lock_and_scans(pg_database: Database) -> None:
    trace = _trace(pg_database, "CREATE INDEX t_n ON t (n)")
    assert trace.strongest_lock("t").mode == "ShareLock"  # type: ignore[union-attr]
    assert trace.scans == ("t",)
    assert trace.rewrites == ()
    assert not trace.sampled


def test_create_index_concurrently_is_sampled_and_takes_share_update_exclusive(
    pg_database: Database,
) -> None:
    trace = _trace(pg_database, "CREATE INDEX CONCURRENTLY t_n ON t (n)", in_transaction=False)
    assert trace.sampled and not trace.in_transaction
    assert {(lk.relation, lk.mode) for lk in trace.locks} == {("t", "ShareUpdateExclusiveLock")}
    assert "t" in trace.scans


def test_create_index_concurrently_fails_inside_the_migration_transaction(
    pg_database: Database,
) -> None:
    result = run_trace(pg_database, [SETUP], "CREATE INDEX CONCURRENTLY t_n ON t (n);")
    assert result.failed is not None
    assert "cannot run inside a transaction block" in result.failed.error  # type: ignore[operator]


def test_int_to_bigint_rewrites_the_table_under_access_exclusive(pg_database: Database) -> None:
    trace = _trace(pg_database, "ALTER TABLE t ALTER COLUMN id TYPE bigint")
    assert trace.strongest_lock("t").mode == "AccessExclusiveLock"  # type: ignore[union-attr]
    assert "t" in trace.rewrites
    assert "t" in trace.scans


def test_widening_a_varchar_takes_access_exclusive_without_rewrite_or_scan(
    pg_database: Database,
) -> None:
    trace = _trace(pg_database, "ALTER TABLE t ALTER COLUMN v TYPE varchar(20)")
    assert trace.strongest_lock("t").mode == "AccessExclusiveLock"  # type: ignore[union-attr]
    assert trace.rewrites == ()
    assert trace.scans == ()


def test_locks_already_held_in_the_transaction_are_not_reported_again(
    pg_database: Database,
) -> None:
    migration = (
        "ALTER TABLE t ADD COLUMN x int;\n"
        "ALTER TABLE t ALTER COLUMN v TYPE varchar(20);\n"
        "CREATE INDEX t_n ON t (n);\n"
    )
    first, second, third = run_trace(pg_database, [SETUP], migration, seed_rows=10).statements
    assert first.strongest_lock("t").mode == "AccessExclusiveLock"  # type: ignore[union-attr]
    assert second.locks == ()
    assert ("t", "ShareLock") in {(lk.relation, lk.mode) for lk in third.locks}
    assert first.in_transaction and third.in_transaction


def test_without_a_transaction_each_statement_reports_its_own_locks(
    pg_database: Database,
) -> None:
    migration = "ALTER TABLE t ADD COLUMN x int;\nALTER TABLE t ALTER COLUMN v TYPE varchar(20);\n"
    result = run_trace(pg_database, [SETUP], migration, in_transaction=False, seed_rows=10)
    for trace in result.statements:
        assert trace.strongest_lock("t").mode == "AccessExclusiveLock"  # type: ignore[union-attr]


def test_explicit_begin_and_commit_in_the_file_are_honoured(pg_database: Database) -> None:
    migration = (
        "BEGIN;\n"
        "ALTER TABLE t ADD COLUMN x int;\n"
        "COMMIT;\n"
        "CREATE INDEX CONCURRENTLY t_x ON t (x);\n"
    )
    result = run_trace(pg_database, [SETUP], migration, in_transaction=False, seed_rows=100)
    assert result.failed is None, result.failed
    begin, alter, commit, concurrently = result.statements
    assert alter.in_transaction and not alter.sampled
    assert concurrently.sampled
    assert concurrently.strongest_lock("t").mode == "ShareUpdateExclusiveLock"  # type: ignore[union-attr]


def test_lock_timeout_in_effect_is_reported(pg_database: Database) -> None:
    migration = (
        "ALTER TABLE t ADD COLUMN a int;\n"
        "SET lock_timeout = '150ms';\n"
        "ALTER TABLE t ADD COLUMN b int;\n"
    )
    first, _, third = run_trace(pg_database, [SETUP], migration).statements
    assert first.lock_timeout_ms == 0
    assert third.lock_timeout_ms == 150


def test_a_failing_statement_carries_its_error_and_line_and_ends_the_trace(
    pg_database: Database,
) -> None:
    migration = (
        "ALTER TABLE t ADD COLUMN a int;\n\nALTER TABLE missing ADD COLUMN b int;\nSELECT 1;\n"
    )
    result = run_trace(pg_database, [SETUP], migration)
    assert len(result.statements) == 2
    failed = result.failed
    assert failed is not None and failed.line == 3
    assert 'relation "missing" does not exist' in failed.error  # type: ignore[operator]
    with psycopg.connect(pg_database.dsn) as conn:  # the migration transaction rolled back
        columns = conn.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 't' "
            "AND column_name = 'a'"
        ).fetchone()
    assert columns == (0,)


def test_a_plain_select_reports_only_its_read_lock(pg_database: Database) -> None:
    trace = _trace(pg_database, "SELECT 1", seed_rows=10)
    assert trace.locks == () and trace.rewrites == () and trace.scans == ()


def test_a_syntax_error_in_the_set_up_names_the_file_and_line(pg_database: Database) -> None:
    with pytest.raises(TraceError, match="schema.sql:2:1: syntax error"):
        run_trace(pg_database, [("schema.sql", "SELECT 1;\nCREATE TABLE (;\n")], "SELECT 1")


def test_seeding_fills_related_tables_and_skips_what_it_cannot_generate(
    pg_database: Database,
) -> None:
    setup = """
    CREATE TYPE mood AS ENUM ('ok', 'sad');
    CREATE TABLE parent (id uuid PRIMARY KEY, name varchar(20) NOT NULL,
                         created timestamptz NOT NULL, meta jsonb NOT NULL,
                         price numeric(8, 2) NOT NULL, active boolean NOT NULL, mood mood NOT NULL);
    CREATE TABLE child (id bigserial PRIMARY KEY, parent_id uuid NOT NULL REFERENCES parent,
                        note text);
    CREATE TABLE odd (id int PRIMARY KEY, spot point NOT NULL);
    """
    result = run_trace(pg_database, [setup], "SELECT 1", seed_rows=300)
    assert set(result.seeding.seeded) == {"parent", "child"}
    assert result.seeding.seeded.index("parent") < result.seeding.seeded.index("child")
    skipped = dict(result.seeding.skipped)
    assert set(skipped) == {"odd"} and "spot" in skipped["odd"]
    with psycopg.connect(pg_database.dsn) as conn:
        assert conn.execute("SELECT count(*) FROM child").fetchone() == (300,)
        assert conn.execute("SELECT count(*) FROM odd").fetchone() == (0,)


# The `zdlint trace` command.


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(trace_command, list(args))


def test_cli_traces_the_last_migration_of_a_directory_as_json(
    tmp_path: Path, pg_server: PgServer
) -> None:
    _write(tmp_path, "V1__init.sql", SETUP)
    _write(tmp_path, "V2__index.sql", "CREATE INDEX t_n ON t (n);\n")
    _write(tmp_path, "V10__tighten.sql", "SELECT 1;\nALTER TABLE t ALTER COLUMN c SET NOT NULL;\n")
    result = _invoke(str(tmp_path), "--dsn", pg_server.dsn(), "-f", "json", "--seed-rows", "500")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert [f["setup"] for f in document["files"]] == [
        [str(tmp_path / "V1__init.sql"), str(tmp_path / "V2__index.sql")]
    ]
    select, alter = document["statements"]
    assert (alter["line"], alter["file"]) == (2, str(tmp_path / "V10__tighten.sql"))
    assert {"relation": "t", "mode": "AccessExclusiveLock", "blocks": "reads and writes"} in (
        alter["locks"]
    )
    assert alter["scans"] == ["t"] and alter["rewrites"] == []
    assert alter["lock_timeout_ms"] == 0 and select["locks"] == []


def test_cli_full_and_markdown_name_the_lock_and_what_it_blocks(
    tmp_path: Path, pg_server: PgServer
) -> None:
    schema = _write(tmp_path, "schema.sql", SETUP)
    target = _write(tmp_path, "change.sql", "CREATE INDEX t_n ON t (n);\n")
    for output_format in ("full", "markdown"):
        result = _invoke(
            str(target), "--setup", str(schema), "--dsn", pg_server.dsn(), "-f", output_format
        )
        assert result.exit_code == 0, result.output
        assert "SHARE" in result.output and "writes (INSERT, UPDATE, DELETE)" in result.output
    assert "| 1 | `CREATE INDEX t_n ON t (n)` | `t` | **SHARE** |" in result.output


def test_cli_failing_statement_exits_1_with_its_line(tmp_path: Path, pg_server: PgServer) -> None:
    target = _write(tmp_path, "bad.sql", "SELECT 1;\nALTER TABLE nowhere ADD COLUMN x int;\n")
    result = _invoke(str(target), "--dsn", pg_server.dsn())
    assert result.exit_code == 1
    assert f"{target}:2:1" in result.output and "does not exist" in result.output


def test_cli_missing_file_exits_2_with_one_line(tmp_path: Path) -> None:
    result = _invoke(str(tmp_path / "nope.sql"))
    assert result.exit_code == 2
    assert (
        result.output.strip()
        == f"zdlint: error: {tmp_path / 'nope.sql'}: no such file or directory"
    )


def test_cli_without_any_postgres_exits_2_without_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _write(tmp_path, "m.sql", "SELECT 1;\n")
    monkeypatch.delenv("ZDLINT_DSN", raising=False)
    monkeypatch.setenv("ZDLINT_PG_BINDIR", str(tmp_path))
    result = _invoke(str(target))
    assert result.exit_code == 2
    assert result.output.startswith("zdlint: error: ZDLINT_PG_BINDIR=")
    assert "Traceback" not in result.output


def test_cli_refuses_copy_program_with_exit_2(tmp_path: Path, pg_server: PgServer) -> None:
    target = _write(tmp_path, "m.sql", "SELECT 1;\nCOPY (SELECT 1) TO PROGRAM 'true';\n")
    result = _invoke(str(target), "--dsn", pg_server.dsn())
    assert result.exit_code == 2
    assert f"{target}:2:1: Refusing" in result.output


def test_cli_never_prints_the_dsn_password(tmp_path: Path) -> None:
    target = _write(tmp_path, "m.sql", "SELECT 1;\n")
    dsn = f"host={tmp_path} port=1 user=app password=hunter2 dbname=app connect_timeout=2"
    result = _invoke(str(target), "--dsn", dsn)
    assert result.exit_code == 2
    assert "hunter2" not in result.output and "***" in result.output


def test_a_statement_that_runs_past_the_limit_is_cancelled_and_reported(
    pg_database: Database,
) -> None:
    migration = "SELECT 1;\nSELECT pg_sleep(30);\nSELECT 2;\n"
    result = run_trace(pg_database, [SETUP], migration, in_transaction=False, statement_limit=0.5)
    assert result.failed is not None
    assert result.failed.line == 2
    assert "stopped by zdlint after 0.5 s" in (result.failed.error or "")
    assert sum(s.duration_ms for s in result.statements) < 20_000
