"""Which migration tool runs a file, and whether it wraps it in a transaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import codes
from zdlint.sql.tools import apply_transaction_mode, detect_tool, file_runs_in_transaction

CIC = "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY i ON t (a);\n"


@pytest.mark.parametrize(
    ("name", "text", "tool", "wrapped"),
    [
        ("001_x.sql", "-- +goose Up\nSELECT 1;\n", "goose", True),
        ("001_x.sql", "-- +goose NO TRANSACTION\n-- +goose Up\nSELECT 1;\n", "goose", False),
        ("001_x.sql", "-- migrate:up\nSELECT 1;\n", "dbmate", True),
        ("001_x.sql", "-- migrate:up transaction:false\nSELECT 1;\n", "dbmate", False),
        ("001_x.sql", "-- +migrate Up\nSELECT 1;\n", "sql-migrate", True),
        ("001_x.sql", "-- +migrate Up notransaction\nSELECT 1;\n", "sql-migrate", False),
        ("001_x.sql", "-- no-transaction\nSELECT 1;\n", "sqlx", False),
        ("001_x.sql", "-- atlas:txmode none\n\nSELECT 1;\n", "atlas", False),
        ("x.sql", "-- liquibase formatted sql\n--changeset me:1\nSELECT 1;\n", "liquibase", True),
        (
            "x.sql",
            "-- liquibase formatted sql\n--changeset me:1 runInTransaction:false\nSELECT 1;\n",
            "liquibase",
            False,
        ),
        ("V2__add_index.sql", "SELECT 1;\n", "flyway", True),
        ("0002_add_index.up.sql", "SELECT 1;\nSELECT 2;\n", "golang-migrate", True),
        ("plain.sql", "SELECT 1;\n", "psql", False),
    ],
)
def test_markers_and_names_identify_the_tool(tmp_path, name, text, tool, wrapped):
    assert detect_tool(tmp_path / name, text).tool == tool
    assert file_runs_in_transaction(tmp_path / name, text) is wrapped


def test_flyway_conf_sidecar_turns_the_transaction_off(tmp_path):
    migration = tmp_path / "V3__index.sql"
    (tmp_path / "V3__index.sql.conf").write_text("executeInTransaction=false\n")
    layout = detect_tool(migration, CIC)
    assert layout.tool == "flyway" and not layout.wraps_by_default
    assert "ZD402" not in codes(CIC, migration)
    assert "ZD402" in codes(CIC, tmp_path / "V4__index.sql")


def test_diesel_metadata_turns_the_transaction_off_but_one_batch_is_still_one_block(tmp_path):
    folder = tmp_path / "2024-01-01-000000_index"
    folder.mkdir()
    (folder / "down.sql").write_text("DROP INDEX i;\n")
    assert "ZD402" in codes(CIC, folder / "up.sql")
    (folder / "metadata.toml").write_text("run_in_transaction = false\n")
    # diesel sends up.sql with batch_execute: two statements form PostgreSQL's implicit
    # transaction block, where CREATE INDEX CONCURRENTLY fails; alone it runs outside
    assert "ZD402" in codes(CIC, folder / "up.sql")
    assert "ZD402" not in codes("CREATE INDEX CONCURRENTLY i ON t (a);\n", folder / "up.sql")


def test_prisma_migration_sql_is_one_transaction(tmp_path):
    folder = tmp_path / "migrations" / "20240101000000_index"
    folder.mkdir(parents=True)
    (tmp_path / "migrations" / "migration_lock.toml").write_text('provider = "postgresql"\n')
    layout = detect_tool(folder / "migration.sql", CIC)
    assert layout.tool == "prisma" and layout.wraps_by_default


def test_goose_down_section_is_not_checked():
    text = "-- +goose NO TRANSACTION\n-- +goose Up\n" + CIC + "-- +goose Down\nDROP INDEX i;\n"
    assert codes(text) == []


def test_dbmate_sections_each_have_their_own_transaction_mode():
    lone = "CREATE INDEX CONCURRENTLY i ON t (a);\n"
    text = "-- migrate:up transaction:false\n" + lone + "-- migrate:down\nDROP INDEX i;\n"
    assert "ZD402" not in codes(text)
    assert "ZD402" in codes(text.replace("transaction:false", ""))


def test_dbmate_without_transaction_still_sends_a_section_as_one_implicit_block():
    # dbmate runs `db.Exec(section)`: PostgreSQL wraps several statements of one query
    text = "-- migrate:up transaction:false\n" + CIC + "-- migrate:down\nDROP INDEX i;\n"
    assert "ZD402" in codes(text)


def test_config_transaction_override_always_and_never():
    plain = detect_tool(Path("plain.sql"), CIC)
    assert apply_transaction_mode(plain, "always").wraps_by_default
    goose = detect_tool(None, "-- +goose Up\n" + CIC)
    assert not apply_transaction_mode(goose, "never").wraps_by_default
    assert "ZD402" in codes(CIC, transaction="always")
    assert "ZD402" not in codes("-- +goose Up\n" + CIC, transaction="never")


def test_a_lone_statement_of_a_batch_tool_runs_outside_a_transaction(tmp_path):
    from zdlint.sql.tools import file_runs_in_transaction

    path = tmp_path / "0003_idx.up.sql"
    assert file_runs_in_transaction(path, "CREATE INDEX CONCURRENTLY i ON t (a);\n") is False
    assert file_runs_in_transaction(path, "SET lock_timeout = '1s';\nSELECT 1;\n") is True
    assert file_runs_in_transaction(tmp_path / "plain.sql", "SELECT 1;\nSELECT 2;\n") is False


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_sqitch_plan_up_to_two_folders_above_identifies_sqitch(tmp_path, monkeypatch, depth):
    (tmp_path / "sqitch.plan").write_text("%project=x\n")
    folder = tmp_path.joinpath(*["deploy"] * depth)
    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(tmp_path)  # relative paths too: "x.sql" has "." as its only parent
    relative = Path(*["deploy"] * depth, "x.sql")
    assert detect_tool(relative, "SELECT 1;\n").tool == "sqitch"
    assert detect_tool(folder / "x.sql", "SELECT 1;\n").tool == "sqitch"


def test_sqitch_plan_three_folders_above_is_too_far(tmp_path):
    (tmp_path / "sqitch.plan").write_text("%project=x\n")
    assert detect_tool(tmp_path / "a" / "b" / "c" / "x.sql", "SELECT 1;\n").tool == "psql"


def test_atlas_sum_and_migrations_folder_identify_atlas_and_sqlx(tmp_path):
    (tmp_path / "atlas").mkdir()
    (tmp_path / "atlas" / "atlas.sum").write_text("h1:x\n")
    assert detect_tool(tmp_path / "atlas" / "1_x.sql", "SELECT 1;\n").tool == "atlas"
    assert detect_tool(tmp_path / "migrations" / "1_x.sql", "SELECT 1;\n").tool == "sqlx"
    assert detect_tool(tmp_path / "other" / "1_x.sql", "SELECT 1;\n").tool == "psql"


def test_a_marker_inside_a_string_or_mid_line_is_not_a_marker(tmp_path):
    text = "SELECT '-- +goose Up'; -- migrate:up\n"
    assert detect_tool(tmp_path / "x.sql", text).tool == "psql"


# --- sqlx, Atlas and sqitch read their markers exactly as the tools do ---------------


def test_sqlx_no_transaction_must_be_the_files_very_first_bytes(tmp_path):
    lone = "CREATE INDEX CONCURRENTLY i ON t (a);\n"
    folder = tmp_path / "migrations"
    assert not file_runs_in_transaction(folder / "1_x.sql", "-- no-transaction\n" + lone)
    assert not file_runs_in_transaction(folder / "1_x.sql", "-- no-transaction: CIC\n" + lone)
    # sqlx tests `sql.starts_with("-- no-transaction")`: these run in its transaction
    assert file_runs_in_transaction(folder / "1_x.sql", "--no-transaction\n" + lone)
    assert file_runs_in_transaction(folder / "1_x.sql", "\n-- no-transaction\n" + lone)


def test_sqlx_no_transaction_file_is_one_query_so_several_statements_share_a_block(tmp_path):
    path = tmp_path / "migrations" / "1_x.sql"
    assert "ZD402" in codes("-- no-transaction\n" + CIC, path)
    assert "ZD402" not in codes("-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n", path)


def test_atlas_txmode_directive_counts_only_in_the_header_before_a_blank_line(tmp_path):
    path = tmp_path / "20240101000000_x.sql"
    assert not detect_tool(path, "-- atlas:txmode none\n\n" + CIC).wraps_by_default
    assert not detect_tool(path, "-- note\n-- atlas:txmode none\n\n" + CIC).wraps_by_default
    # no blank line after it: Atlas reads it as the statement's comment, not a directive
    assert detect_tool(path, "-- atlas:txmode none\n" + CIC).wraps_by_default
    assert detect_tool(path, "SELECT 1;\n-- atlas:txmode none\n\n" + CIC).wraps_by_default


def test_sqitch_revert_and_verify_scripts_are_not_deployed(tmp_path):
    (tmp_path / "sqitch.plan").write_text("%project=x\n")
    for folder in ("revert", "verify"):
        layout = detect_tool(tmp_path / folder / "x.sql", "DROP TABLE users;\n")
        assert layout.tool == "sqitch" and not any(r.deploy for r in layout.regions)
        assert codes("DROP TABLE users;\n", tmp_path / folder / "x.sql") == []
    assert "ZD" in "".join(codes("DROP TABLE users;\n", tmp_path / "deploy" / "x.sql"))


# --- Flyway ----------------------------------------------------------------------


def test_flyway_runs_a_migration_of_only_concurrent_statements_outside_a_transaction(tmp_path):
    only = "CREATE INDEX CONCURRENTLY i ON t (a);\nDROP INDEX CONCURRENTLY j;\n"
    assert "ZD402" not in codes(only, tmp_path / "V5__indexes.sql")
    assert not file_runs_in_transaction(tmp_path / "V5__indexes.sql", only)
    # mixed with a transactional statement Flyway refuses to run it (unless mixed=true)
    assert "ZD402" in codes(CIC, tmp_path / "V6__index.sql")


# --- pop / ory popx ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "deployed", "wrapped_alone"),
    [
        ("20240101000000_users.postgres.up.sql", True, True),
        ("20240101000000_users.pg.up.sql", True, True),
        ("20240101000000_users.autocommit.up.sql", True, False),
        ("20240101000000_users.postgres.autocommit.up.sql", True, False),
        ("20240101000000_users.postgres.down.sql", False, False),
        ("20240101000000_users.mysql.up.sql", False, False),
        ("20240101000000_users.cockroach.autocommit.up.sql", False, False),
        ("20240101000000_users.sqlite3.up.sql", False, False),
    ],
)
def test_pop_file_names_say_dialect_transaction_and_direction(
    tmp_path, name, deployed, wrapped_alone
):
    lone = "CREATE INDEX CONCURRENTLY i ON t (a);\n"
    layout = detect_tool(tmp_path / name, lone)
    assert layout.tool == "pop"
    assert any(r.deploy for r in layout.regions) is deployed
    assert file_runs_in_transaction(tmp_path / name, lone) is wrapped_alone


def test_pop_plain_up_files_run_in_a_transaction_when_the_folder_is_pops(tmp_path):
    (tmp_path / "20240101000000_a.postgres.up.sql").write_text("SELECT 1;\n")
    plain = tmp_path / "20240102000000_b.up.sql"
    layout = detect_tool(plain, "CREATE INDEX CONCURRENTLY i ON t (a);\n")
    assert layout.tool == "pop" and layout.wraps_by_default
    assert "ZD402" in codes("CREATE INDEX CONCURRENTLY i ON t (a);\n", plain)
    # the same name in a folder without pop names is golang-migrate's: alone, unwrapped
    other = tmp_path / "gm" / "20240102000000_b.up.sql"
    assert detect_tool(other, "SELECT 1;\n").tool == "golang-migrate"
    assert "ZD402" not in codes("CREATE INDEX CONCURRENTLY i ON t (a);\n", other)


def test_pop_autocommit_file_of_several_statements_is_still_one_implicit_block(tmp_path):
    path = tmp_path / "20240101000000_idx.autocommit.up.sql"
    assert "ZD402" in codes(CIC, path)


def test_a_folder_walk_skips_other_dialects_and_named_ones_are_skipped_too(tmp_path):
    from zdlint.discover import discover

    for name in (
        "20240101000000_a.postgres.up.sql",
        "20240101000000_a.mysql.up.sql",
        "20240101000000_a.cockroach.autocommit.up.sql",
        "20240101000000_a.postgres.down.sql",
        "20240102000000_b.up.sql",
    ):
        (tmp_path / name).write_text("SELECT 1;\n")
    skipped: list[tuple[str, bool]] = []

    def on_skip(path: Path, reason: str, named: bool) -> None:
        assert "not PostgreSQL" in reason
        skipped.append((path.name, named))

    found = [t.path.name for t in discover([str(tmp_path)], lambda p: False, on_skip)]
    assert found == ["20240101000000_a.postgres.up.sql", "20240102000000_b.up.sql"]
    assert sorted(skipped) == [
        ("20240101000000_a.cockroach.autocommit.up.sql", False),
        ("20240101000000_a.mysql.up.sql", False),
    ]
    named = tmp_path / "20240101000000_a.mysql.up.sql"
    assert list(discover([str(named)], lambda p: False, on_skip)) == []
    assert skipped[-1] == (named.name, True)


def test_the_schema_history_replays_no_other_dialect(tmp_path):
    (tmp_path / "20240101000000_a.mysql.up.sql").write_text("CREATE TABLE users (id int);\n")
    path = tmp_path / "20240102000000_b.postgres.up.sql"
    text = "ALTER TABLE users ADD COLUMN email text;\n"
    path.write_text(text)
    from zdlint.sql.history import migration_sequence

    assert [p.name for p in migration_sequence(path)[1]] == [path.name]


# --- golang-migrate generated by Atlas ------------------------------------------------


def test_golang_migrate_files_beside_an_atlas_sum_are_run_by_golang_migrate(tmp_path):
    # `atlas migrate diff --dir-format golang-migrate` writes NNN_x.up.sql files and an
    # atlas.sum; golang-migrate applies them: one batch, a lone statement unwrapped
    (tmp_path / "atlas.sum").write_text("h1:x\n")
    path = tmp_path / "20240101000000_idx.up.sql"
    layout = detect_tool(path, "CREATE INDEX CONCURRENTLY i ON t (a);\n")
    assert layout.tool == "golang-migrate" and "atlas.sum" in layout.reason
    assert "ZD402" not in codes("CREATE INDEX CONCURRENTLY i ON t (a);\n", path)
    assert "ZD402" in codes(CIC, path)
    # Atlas's own format beside the same atlas.sum stays Atlas's (one transaction a file)
    assert detect_tool(tmp_path / "20240101000000_idx.sql", "SELECT 1;\n").tool == "atlas"
    # and Flyway-named files beside an atlas.sum are Flyway's
    assert detect_tool(tmp_path / "V2__idx.sql", "SELECT 1;\n").tool == "flyway"


# --- [tool.zdlint.tools] ---------------------------------------------------------------


def _project(tmp_path: Path, tools: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[tool.zdlint.tools]\n{tools}\n")
    (tmp_path / "db" / "migrations").mkdir(parents=True)
    return tmp_path / "db" / "migrations"


def test_config_names_the_tool_of_a_folder_and_wins_over_detection(tmp_path):
    from zdlint.catalogue import load_catalogue
    from zdlint.config import load_settings

    folder = _project(tmp_path, '"db/migrations/**" = "goose"')
    settings = load_settings(tmp_path / "pyproject.toml", load_catalogue())
    configured = settings.tool_for(folder / "V1__x.sql")
    assert configured is not None and configured.tool == "goose"
    layout = detect_tool(folder / "V1__x.sql", "SELECT 1;\n", configured)
    assert layout.tool == "goose" and layout.reason.startswith("config:")
    assert settings.tool_for(tmp_path / "other" / "V1__x.sql") is None


def test_config_tool_changes_findings_through_check(tmp_path, monkeypatch):
    from zdlint.catalogue import load_catalogue
    from zdlint.config import load_settings
    from zdlint.lint import lint_paths

    folder = _project(tmp_path, '"db/migrations" = "golang-migrate"')
    (folder / "0001_idx.sql").write_text("CREATE INDEX CONCURRENTLY i ON t (a);\n")
    (folder / "0002_idx.sql").write_text(CIC)
    monkeypatch.chdir(tmp_path)
    settings = load_settings(tmp_path / "pyproject.toml", load_catalogue())
    run = lint_paths(["db"], settings, load_catalogue())
    by_file = {r.path: [f.code for f in r.findings] for r in run.reports}
    assert "ZD402" not in by_file["db/migrations/0001_idx.sql"]
    assert "ZD402" in by_file["db/migrations/0002_idx.sql"]


def test_an_unknown_tool_in_config_is_an_error_with_a_suggestion(tmp_path):
    from zdlint.catalogue import load_catalogue
    from zdlint.config import ConfigError, load_settings

    _project(tmp_path, '"db/migrations/**" = "gose"')
    with pytest.raises(ConfigError, match=r"'gose' is not a migration tool.*did you mean 'goose'"):
        load_settings(tmp_path / "pyproject.toml", load_catalogue())


# --- file names -------------------------------------------------------------------------


def test_files_ending_in_sql_postgres_are_sql_in_walks_and_when_named(tmp_path):
    from zdlint.discover import SQL, discover

    (tmp_path / "001_x.sql.postgres").write_text("SELECT 1;\n")
    (tmp_path / "001_x.sql.mysql").write_text("SELECT 1;\n")
    walked = list(discover([str(tmp_path)], lambda p: False))
    assert [(t.path.name, t.kind) for t in walked] == [("001_x.sql.postgres", SQL)]
    named = list(discover([str(tmp_path / "001_x.sql.postgres")], lambda p: False))
    assert named[0].kind == SQL


# --- explaining the detection: --show-settings and -v -----------------------------------


def _goose_and_pop(tmp_path: Path) -> None:
    (tmp_path / "goose").mkdir()
    (tmp_path / "goose" / "001_a.sql").write_text("-- +goose Up\nCREATE INDEX i ON t (a);\n")
    (tmp_path / "goose" / "002_b.sql").write_text(
        "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY j ON t (a);\n"
    )
    (tmp_path / "goose" / "003_c.sql").write_text("-- +goose Up\nSELECT 1;\n")
    (tmp_path / "pop").mkdir()
    (tmp_path / "pop" / "20240101000000_a.postgres.up.sql").write_text("SELECT 1;\n")
    (tmp_path / "pop" / "20240101000000_a.mysql.up.sql").write_text("SELECT 1;\n")


def test_show_settings_prints_each_folders_tool_reason_and_transactions_then_exits_0(tmp_path):
    from tests.test_cli import zdlint

    _goose_and_pop(tmp_path)
    (tmp_path / "zdlint.toml").write_text('pg-version = 14\n[tools]\n"pop" = "pop"\n')
    result = zdlint("check", "--show-settings", ".", cwd=tmp_path)
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr
    goose = out[out.index("goose/ (3 files)") :]
    assert goose.splitlines()[1:5] == [
        "  tool: goose",
        "  why: -- +goose Up marker",
        "  transactions: one transaction per file",
        "  pg-version: 14",
    ]
    assert "002_b.sql: goose (-- +goose Up marker; -- +goose NO TRANSACTION); no transaction" in out
    assert "  why: config: [tool.zdlint.tools] 'pop' = 'pop'" in out
    assert "skipped pop/20240101000000_a.mysql.up.sql: a pop migration for mysql" in out
    assert "Resolved settings:" in out and "  pg-version = 14" in out
    assert "ZD102" not in out  # nothing was checked


def test_verbose_check_prints_one_line_per_folder_on_stderr(tmp_path):
    from tests.test_cli import zdlint

    _goose_and_pop(tmp_path)
    result = zdlint("check", "-v", "--no-cache", "-f", "concise", ".", cwd=tmp_path)
    lines = result.stderr.decode().splitlines()
    assert "zdlint: goose: goose (-- +goose Up marker)" in lines
    assert any(line.startswith("zdlint: pop: pop (<version>_<name>.postgres") for line in lines)
    assert any("a.mysql.up.sql: skipped: a pop migration for mysql" in line for line in lines)
    assert "ZD102" in result.stdout.decode()  # and the check ran


def test_a_named_file_for_another_database_is_skipped_with_a_note(tmp_path):
    from tests.test_cli import zdlint

    _goose_and_pop(tmp_path)
    result = zdlint("check", "pop/20240101000000_a.mysql.up.sql", cwd=tmp_path)
    assert result.returncode == 0
    assert b"skipped: a pop migration for mysql, not PostgreSQL" in result.stderr


def test_an_unknown_configured_tool_exits_2(tmp_path):
    from tests.test_cli import zdlint

    (tmp_path / "zdlint.toml").write_text('[tools]\n"db/**" = "flyaway"\n')
    result = zdlint("check", "--show-settings", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert b"did you mean 'flyway'?" in result.stderr


def test_diesel_up_sql_is_known_by_its_folder_name_without_a_down_sql(tmp_path):
    for folder in ("2024-01-01-000000_index", "2026-02-19-120000-0000_x", "00000000000000_init"):
        assert detect_tool(tmp_path / folder / "up.sql", "SELECT 1;\n").tool == "diesel"
    assert detect_tool(tmp_path / "index" / "up.sql", "SELECT 1;\n").tool == "psql"


def test_one_migration_per_folder_layouts_are_described_as_one_folder(tmp_path, monkeypatch):
    from zdlint.config import Settings
    from zdlint.tool_report import detect_folders, verbose_lines

    root = tmp_path / "prisma" / "migrations"
    for stamp in ("20240101000000_a", "20240102000000_b"):
        (root / stamp).mkdir(parents=True)
        (root / stamp / "migration.sql").write_text("SELECT 1;\nSELECT 2;\n")
    (root / "migration_lock.toml").write_text('provider = "postgresql"\n')
    monkeypatch.chdir(tmp_path)
    detection = detect_folders(["prisma"], Settings(root=tmp_path))
    assert [(f.path, len(f.files)) for f in detection.folders] == [("prisma/migrations", 2)]
    assert verbose_lines(detection) == [
        "prisma/migrations: prisma (migration.sql with ../migration_lock.toml (Prisma))"
    ]
