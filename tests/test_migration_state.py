"""Migration state: transactions, timeouts really in effect, objects created earlier."""

from __future__ import annotations

from pathlib import Path

from zdlint.source import SourceText
from zdlint.sql.parse import parse_statements
from zdlint.sql.state import MigrationState, advance, enter_region, new_state
from zdlint.sql.tools import apply_transaction_mode, detect_tool


def states(sql: str, path: str | None = None, transaction: str = "auto") -> list[MigrationState]:
    """A snapshot of the state *after* each statement."""
    import copy

    layout = apply_transaction_mode(detect_tool(Path(path) if path else None, sql), transaction)
    state = new_state(15, layout, 10_000)
    out = []
    for stmt in parse_statements(SourceText(sql)):
        enter_region(state, layout.region_at(stmt.start))
        advance(state, stmt)
        out.append(copy.deepcopy(state))
    return out


def test_begin_and_commit_open_and_close_an_explicit_transaction():
    after = states("BEGIN; SELECT 1; COMMIT; SELECT 2;")
    assert [s.in_transaction for s in after] == [True, True, False, False]


def test_a_tool_that_wraps_the_file_starts_in_a_transaction():
    after = states("-- +goose Up\nSELECT 1;\n")
    assert after[0].in_transaction
    assert "goose" in after[0].transaction_origin


def test_set_lock_timeout_is_read_as_milliseconds():
    after = states("SET lock_timeout = '3s'; SET lock_timeout TO 500; SET lock_timeout = '1min';")
    assert [s.lock_timeout_ms for s in after] == [3000, 500, 60000]


def test_zero_default_and_reset_mean_no_lock_timeout():
    after = states(
        "SET lock_timeout = '2s'; SET lock_timeout = 0;"
        "SET lock_timeout = '2s'; SET lock_timeout TO DEFAULT;"
        "SET lock_timeout = '2s'; RESET lock_timeout;"
        "SET lock_timeout = '2s'; RESET ALL;"
    )
    assert [s.lock_timeout_ms for s in after] == [2000, None] * 4


def test_set_local_ends_at_commit_and_is_ignored_outside_a_transaction():
    after = states("SET LOCAL lock_timeout = '1s'; BEGIN; SET LOCAL lock_timeout = '2s'; COMMIT;")
    assert [s.lock_timeout_ms for s in after] == [None, None, 2000, None]


def test_rollback_undoes_a_session_set_made_in_the_transaction():
    after = states("SET lock_timeout = '1s'; BEGIN; SET lock_timeout = '5s'; ROLLBACK;")
    assert [s.lock_timeout_ms for s in after] == [1000, 1000, 5000, 1000]


def test_set_config_counts_like_set():
    after = states("SELECT set_config('lock_timeout', '4s', false);")
    assert after[0].lock_timeout_ms == 4000


def test_statement_timeout_is_tracked_too():
    after = states("SET statement_timeout = '30s';")
    assert after[0].statement_timeout_ms == 30000


def test_tables_created_earlier_are_known_as_new():
    after = states(
        "CREATE TABLE a (id int); CREATE TABLE b AS SELECT 1; ALTER TABLE a RENAME TO c;"
    )
    assert after[-1].is_new_table("a") and after[-1].is_new_table("b")
    assert after[-1].is_new_table("c")
    assert not after[-1].is_new_table("users")


def test_a_validated_not_null_check_is_known_and_not_valid_one_is_not():
    after = states(
        "ALTER TABLE users ADD CONSTRAINT c1 CHECK (email IS NOT NULL) NOT VALID;"
        "ALTER TABLE users VALIDATE CONSTRAINT c1;"
    )
    assert not after[0].has_validated_not_null_check("users", "email")
    assert after[1].has_validated_not_null_check("users", "email")


def test_tables_holding_access_exclusive_are_forgotten_at_commit():
    after = states("BEGIN; ALTER TABLE users ADD COLUMN a int; COMMIT;")
    assert after[1].holds_access_exclusive("users")
    assert not after[2].holds_access_exclusive("users")


def test_validate_constraint_does_not_count_as_access_exclusive():
    after = states("BEGIN; ALTER TABLE users VALIDATE CONSTRAINT c;")
    assert not after[1].holds_access_exclusive("users")


def test_a_batch_tool_stays_in_a_transaction_block_after_commit(tmp_path):
    after = states(
        "SET LOCAL lock_timeout = '1s'; COMMIT; SELECT 2;", path=str(tmp_path / "1_x.up.sql")
    )
    assert [s.in_transaction for s in after] == [True, True, True]
    # ... but COMMIT did end the first transaction: its SET LOCAL is gone
    assert [s.lock_timeout_ms for s in after] == [1000, None, None]
    plain = states("BEGIN; COMMIT; SELECT 2;", path=str(tmp_path / "plain.sql"))
    assert [s.in_transaction for s in plain] == [True, False, False]


def test_a_table_truncated_in_a_transaction_is_empty_until_commit_or_refill():
    after = states(
        "BEGIN; TRUNCATE t; CREATE INDEX i ON t (a); INSERT INTO t SELECT * FROM u; COMMIT;"
        "BEGIN; TRUNCATE t; COMMIT; TRUNCATE t;"
    )
    assert [s.is_empty("t") for s in after] == [
        *(False, True, True, False, False),
        *(False, True, False, False),
    ]


def test_the_rest_of_a_transaction_ends_at_commit_or_at_the_tools_region_end(tmp_path):
    from zdlint.sql.tools import detect_tool

    def rest_after(sql: str, index: int, path: str | None = None) -> tuple[list[str], bool]:
        statements = parse_statements(SourceText(sql))
        layout = detect_tool(Path(path) if path else None, sql)
        state = new_state(15, layout, 10_000)
        state.file_statements = statements
        for stmt in statements[:index]:
            enter_region(state, layout.region_at(stmt.start))
            advance(state, stmt)
        enter_region(state, layout.region_at(statements[index].start))
        nodes, closed = state.rest_of_transaction(statements[index].node)
        return [type(n).__name__ for n in nodes], closed

    sql = "BEGIN; SELECT 1; SELECT 2; COMMIT; SELECT 3;"
    assert rest_after(sql, 1) == (["SelectStmt"], True)
    assert rest_after(sql, 4) == ([], True)  # autocommit: the statement is its own transaction
    assert rest_after("BEGIN; SELECT 1;", 0) == (["SelectStmt"], False)
    goose = "-- +goose Up\nSELECT 1;\nSELECT 2;\n-- +goose Down\nSELECT 3;\n"
    assert rest_after(goose, 0, str(tmp_path / "1_x.sql")) == (["SelectStmt"], True)


def test_only_the_tools_own_transaction_is_ended_early_by_a_commit(tmp_path):
    goose = states("-- +goose Up\nBEGIN;\nCOMMIT;\nBEGIN;\nCOMMIT;\n", str(tmp_path / "1_x.sql"))
    assert [s.tool_transaction for s in goose] == [True, False, False, False]
    batch = states("BEGIN; COMMIT; SELECT 1;", str(tmp_path / "1_x.up.sql"))  # golang-migrate
    assert not any(s.tool_transaction for s in batch)


def test_a_renamed_table_keeps_the_locks_the_transaction_holds_on_it():
    after = states("BEGIN; TRUNCATE team; ALTER TABLE team RENAME TO organization;")
    assert after[-1].holds_access_exclusive("organization")
    assert after[-1].is_empty("organization")
    assert after[-1].ddl_locks["organization"] == "AccessExclusiveLock"
