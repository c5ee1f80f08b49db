"""`zdlint verify`: traffic, measurements, the control run, reports and the exit gate.

Small tables and short runs: these tests check the mechanics, not the size of stalls
(that is measured by hand on a million rows, see docs/verify.md).
"""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result

from zdlint.pg.load import LoadSettings, lock_waits
from zdlint.pg.progress import ProgressLine, render_line
from zdlint.pg.seed import seed_tables
from zdlint.pg.server import PgServer
from zdlint.pg.verify import (
    FixUnavailable,
    RunMeasurement,
    Script,
    VerifyError,
    VerifySettings,
    fixed_sql,
    percentile,
    run_verify,
    touched_tables,
)
from zdlint.pg.verify_cli import verify as verify_command
from zdlint.pg.workload import table_workload

SETUP = (
    "CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text,"
    " created_at timestamptz NOT NULL DEFAULT now());\n"
)
ROWS = 3000
QUICK = VerifySettings(
    rows=ROWS,
    load=LoadSettings(writers=2, readers=1, rate=40.0, statement_timeout_ms=2000),
    duration_s=1.0,
    lead_s=0.3,
    tail_s=0.3,
    timeout_s=120.0,
)
HOLD_LOCK = "LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE;\nSELECT pg_sleep(0.5);\n"


def _script(text: str, in_transaction: bool = True, name: str = "m.sql") -> Script:
    return Script.from_texts([(name, text, in_transaction)])


def _assert_sane(run: RunMeasurement) -> None:
    assert run.writes, f"{run.name}: no write was made"
    assert all(isinstance(n, int) for n in (run.late_writes, run.failed_writes))
    assert 0 <= run.p50_write_ms <= run.p99_write_ms <= run.max_write_stall_ms
    assert run.duration_ms >= 0 and run.late_writes >= 0 and run.failed_writes >= 0
    assert all(op.latency_ms >= 0 and 0 <= op.at_s <= run.window_s for op in run.writes)
    for statement in run.statements:
        assert 0 <= statement.start_s <= statement.end_s <= run.window_s


# --- measurements on a real server ---------------------------------------------------------


def test_control_always_runs_and_every_number_is_sane(pg_server: PgServer) -> None:
    migration = _script("ALTER TABLE accounts ADD COLUMN note text;")
    result = run_verify(pg_server, [SETUP], migration, None, QUICK)
    assert [r.name for r in result.runs] == ["control", "migration"]
    assert result.control.statements == () and result.control.duration_ms == 0.0
    assert [s.label for s in result.migration.statements] == [
        "ALTER TABLE accounts ADD COLUMN note text",
        "COMMIT",
    ]
    assert result.tables == ("accounts",) and result.seeding.seeded == ("accounts",)
    # The control's traffic covers the migration run's whole window.
    assert result.control.window_s >= result.migration.window_s
    for run in result.runs:
        _assert_sane(run)
        assert run.reads and run.failed_writes == 0 and run.error is None


def test_lock_waits_are_read_from_the_server_while_access_exclusive_is_held(
    pg_server: PgServer,
) -> None:
    result = run_verify(pg_server, [SETUP], _script(HOLD_LOCK), None, QUICK)
    waits = result.migration.lock_waits
    assert waits.samples > 0 and waits.backends >= 1
    assert waits.backend_samples >= waits.samples
    assert waits.longest_ms >= 200  # held for 500 ms; samples every 10 ms
    assert waits.spans and all(a <= b for a, b in waits.spans)
    assert result.migration.max_write_stall_ms >= 300
    assert result.migration.late_writes > 0
    assert result.control.lock_waits.samples == 0


def test_fixed_steps_outside_a_transaction_run_concurrently_and_call_can_commit(
    pg_server: PgServer,
) -> None:
    setup = SETUP + (
        "CREATE PROCEDURE touch() LANGUAGE plpgsql AS $$ BEGIN\n"
        "  UPDATE accounts SET email = email WHERE id = 1; COMMIT;\n"
        "  UPDATE accounts SET email = email WHERE id = 2; COMMIT;\nEND $$;\n"
    )
    original = _script("CREATE INDEX accounts_email ON accounts (email);")
    fixed = _script(
        "CREATE INDEX CONCURRENTLY accounts_email ON accounts (email);\nCALL touch();\n",
        in_transaction=False,
        name="fixed.sql",
    )
    result = run_verify(pg_server, [setup], original, fixed, QUICK)
    assert result.fixed is not None and result.fixed.error is None, result.fixed
    assert [s.label for s in result.fixed.statements] == [
        "CREATE INDEX CONCURRENTLY accounts_email ON accounts (email)",
        "CALL touch()",
    ]
    assert [r.name for r in result.runs] == ["control", "migration", "fixed"]
    for run in result.runs:
        _assert_sane(run)


def test_a_concurrently_statement_in_a_wrapped_file_fails_and_says_where(
    pg_server: PgServer,
) -> None:
    migration = _script("SELECT 1;\nCREATE INDEX CONCURRENTLY accounts_email ON accounts (email);")
    result = run_verify(pg_server, [SETUP], migration, None, QUICK)
    assert result.migration.error is not None
    assert result.migration.error.startswith("m.sql:2:1:")
    assert "cannot run inside a transaction block" in result.migration.error


def test_a_migration_past_the_timeout_is_cancelled(pg_server: PgServer) -> None:
    stuck = _script("SET statement_timeout = 0;\nSELECT pg_sleep(60);\n", in_transaction=False)
    settings = VerifySettings(
        rows=100, load=LoadSettings(writers=1, readers=0, rate=20.0), timeout_s=4.0
    )
    with pytest.raises(VerifyError, match="did not finish within the 4 s limit"):
        run_verify(pg_server, [SETUP], stuck, None, settings)
    assert _scratch_databases(pg_server) == []


def test_a_migration_that_touches_no_existing_table_needs_a_schema(pg_server: PgServer) -> None:
    with pytest.raises(VerifyError, match="no table to send traffic to"):
        run_verify(pg_server, [], _script("CREATE TABLE fresh (id int);"), None, QUICK)


# --- building blocks -----------------------------------------------------------------------


def test_seeding_only_the_touched_tables_also_seeds_what_they_reference(
    pg_conn: psycopg.Connection,
) -> None:
    pg_conn.execute(
        "CREATE TABLE parent (id int PRIMARY KEY); "
        "CREATE TABLE child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parent); "
        "CREATE TABLE other (id int)"
    )
    child = pg_conn.execute("SELECT 'child'::regclass::oid::int8").fetchone()[0]  # type: ignore[index]
    report = seed_tables(pg_conn, 500, [child])
    assert report.seeded == ("parent", "child")
    count = "SELECT (SELECT count(*) FROM parent), (SELECT count(*) FROM child), "
    assert pg_conn.execute(count + "(SELECT count(*) FROM other)").fetchone() == (500, 500, 0)


def test_workload_statements_write_valid_rows_and_find_seeded_ones(
    pg_conn: psycopg.Connection,
) -> None:
    pg_conn.execute(
        "CREATE TABLE parent (code uuid PRIMARY KEY, n smallint NOT NULL); "
        "CREATE TABLE child (id int NOT NULL, parent_code uuid NOT NULL REFERENCES parent); "
        "CREATE TABLE heap (a text, b int)"
    )
    seed_tables(pg_conn, 200)
    for table in ("child", "heap", "parent"):
        oid = pg_conn.execute("SELECT %s::regclass::oid::int8", (table,)).fetchone()[0]  # type: ignore[index]
        workload = table_workload(pg_conn, oid, 200)
        assert workload.insert is not None and workload.update is not None
        assert pg_conn.execute(workload.insert, (201,)).rowcount == 1  # FK value found
        assert pg_conn.execute(workload.read, (7,)).fetchall()
        assert pg_conn.execute(workload.update, (7,)).rowcount == 1


def test_touched_tables_resolve_indexes_to_their_table(pg_conn: psycopg.Connection) -> None:
    pg_conn.execute("CREATE TABLE t (n int); CREATE INDEX t_n ON t (n); CREATE TABLE u (n int)")
    statements = _script("DROP INDEX CONCURRENTLY t_n; ALTER INDEX t_n RENAME TO t_m;").statements
    t_oid = pg_conn.execute("SELECT 't'::regclass::oid::int8").fetchone()[0]  # type: ignore[index]
    assert touched_tables(pg_conn, statements) == [t_oid]


def test_lock_wait_summary_measures_continuous_waits_per_backend() -> None:
    samples = [
        (0.00, frozenset()),
        (0.01, frozenset({1})),
        (0.02, frozenset({1, 2})),
        (0.03, frozenset({1})),
        (0.04, frozenset()),
        (0.05, frozenset({3})),  # not one of ours
    ]
    waits = lock_waits(samples, frozenset({1, 2}))
    assert (waits.samples, waits.backend_samples, waits.backends) == (3, 4, 2)
    assert waits.longest_ms == pytest.approx(30.0)
    assert waits.spans == ((0.01, 0.04),)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (
        50.0,
        99.0,
        100.0,
    )
    assert percentile([], 99) == 0.0


def test_fixed_sql_runs_zdlint_fix_and_keeps_each_files_transaction_mode(tmp_path: Path) -> None:
    migration = tmp_path / "set_not_null.sql"
    migration.write_text("ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;\n")
    steps = fixed_sql(migration, migration.read_text())
    text = "\n".join(sql for sql, _ in steps)
    assert "NOT VALID" in text and "VALIDATE CONSTRAINT" in text
    assert [wrapped for _, wrapped in steps] == [False] * len(steps)  # plain psql files


def test_fixed_sql_without_a_fix_engine_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "zdlint.fix.fixer", None)  # the import fails
    with pytest.raises(FixUnavailable, match="zdlint fix is not available in this build"):
        fixed_sql(Path("m.sql"), "")


def test_progress_is_silent_off_a_terminal_and_draws_a_bar_on_one() -> None:
    stream = io.StringIO()
    with ProgressLine(stream) as progress:
        progress("seeding accounts", None)
    assert stream.getvalue() == ""
    assert render_line("migration run", 4.0, 1.0) == (
        "zdlint verify: [######------------------] migration run 1.0/4.0 s"
    )
    assert render_line("seeding t", None, 2.25) == "zdlint verify: seeding t 2.2 s"


# --- the command ---------------------------------------------------------------------------


def _files(tmp_path: Path) -> tuple[Path, Path, Path]:
    setup = tmp_path / "schema.sql"
    setup.write_text(SETUP)
    original = tmp_path / "lock.sql"
    original.write_text("BEGIN;\n" + HOLD_LOCK + "COMMIT;\n")
    fixed = tmp_path / "fixed.sql"
    fixed.write_text("ALTER TABLE accounts ADD COLUMN note text;\n")
    return setup, original, fixed


def _invoke(pg_server: PgServer, *args: str) -> Result:
    common = ["--dsn", pg_server.dsn(), "--rows", "2000", "--duration", "1", "--rate", "30"]
    return CliRunner().invoke(verify_command, [*args, *common])


def _scratch_databases(pg_server: PgServer) -> list[str]:
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'zdlint_scratch%'")
        return [r[0] for r in rows]


def test_cli_json_has_three_runs_and_a_tiny_max_stall_exits_1(
    tmp_path: Path, pg_server: PgServer
) -> None:
    setup, original, fixed = _files(tmp_path)
    out = tmp_path / "report.json"
    result = _invoke(
        pg_server, str(original), "--setup", str(setup), "--fixed", str(fixed),
        "--max-stall", "0.001", "-f", "json", "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    document = json.loads(out.read_text())
    keys = {"max_write_stall_ms", "p99_write_ms", "late_writes", "failed_writes"}
    keys |= {"lock_waits", "duration_ms"}
    for name in ("control", "migration", "fixed"):
        assert keys <= set(document[name]), name
        assert isinstance(document[name]["late_writes"], int)
    assert document["gated_run"] == "fixed" and document["passed"] is False
    assert document["migration"]["lock_waits"]["samples"] > 0
    assert document["migration"]["max_write_stall_ms"] > document["fixed"]["max_write_stall_ms"]
    assert _scratch_databases(pg_server) == []


def test_cli_compare_fix_draws_three_series_in_html_and_a_huge_max_stall_passes(
    tmp_path: Path, pg_server: PgServer
) -> None:
    setup, _, _ = _files(tmp_path)
    original = tmp_path / "tighten.sql"
    original.write_text("ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;\n")
    out = tmp_path / "report.html"
    result = _invoke(
        pg_server, str(original), "--setup", str(setup), "--compare-fix",
        "--max-stall", "100000", "-f", "html", "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert page.count("<svg") == 2  # log and linear
    assert re.findall(r'data-run="(\w+)"', page)[:3] == ["control", "migration", "fixed"]
    assert page.count("<polyline") == 6
    assert ">M1<" in page and ">F1<" in page  # statement bands are labelled
    assert "VALIDATE CONSTRAINT" in page  # the fix's statements are listed


def test_cli_full_report_names_the_verdict_and_leaves_the_dsns_database_alone(
    tmp_path: Path, pg_server: PgServer
) -> None:
    setup, _, fixed = _files(tmp_path)
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS sentinel (id int)")
        before = conn.execute("SELECT count(*) FROM pg_class WHERE oid >= 16384").fetchone()
    result = _invoke(pg_server, str(fixed), "--setup", str(setup), "--max-stall", "100000")
    assert result.exit_code == 0, result.output
    assert "worst write stall" in result.output and "control" in result.output
    assert "PASS: worst write stall of the original run" in result.output
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        after = conn.execute("SELECT count(*) FROM pg_class WHERE oid >= 16384").fetchone()
        assert conn.execute("SELECT to_regclass('accounts')").fetchone() == (None,)
        conn.execute("DROP TABLE sentinel")
    assert before == after
    assert _scratch_databases(pg_server) == []


def test_cli_usage_errors_exit_2_with_one_line(
    tmp_path: Path, pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup, original, _ = _files(tmp_path)
    missing = _invoke(pg_server, str(tmp_path / "nope.sql"))
    assert missing.exit_code == 2
    assert missing.output.strip().splitlines() == [
        f"zdlint: error: {tmp_path / 'nope.sql'}: no such file or directory"
    ]
    bad_option = _invoke(pg_server, str(original), "--writers", "0")
    assert bad_option.exit_code == 2
    assert bad_option.output.strip().splitlines() == [
        "zdlint: error: Invalid value for '--writers': 0 is not in the range x>=1."
    ]
    monkeypatch.setitem(sys.modules, "zdlint.fix.fixer", None)
    no_fix = _invoke(pg_server, str(original), "--setup", str(setup), "--compare-fix")
    assert no_fix.exit_code == 2
    assert len(no_fix.output.strip().splitlines()) == 1
    assert "zdlint fix is not available in this build" in no_fix.output
