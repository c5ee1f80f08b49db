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
