"""Context earlier in the same transaction or file: empty tables, primary keys replaced,
locks already held, trigger functions left unused, TEMP scratch tables, tables created by
a statement that does not parse; and the transaction-shape hazards ZD411-ZD413, ZD507."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import codes
from zdlint.catalogue import load_catalogue
from zdlint.config import Settings
from zdlint.lint import lint_paths
from zdlint.sql.schema import SchemaModel, table_created_by
from zdlint.sql.snapshots import model_from_json, model_to_json

T = "SET lock_timeout = '2s';\nSET statement_timeout = '30min';\n"
GOOSE = "db/migrations/00042_change.sql"
GOLANG_MIGRATE = "db/migrations/42_change.up.sql"


def folder_codes(folder: Path, files: dict[str, str], target: str) -> list[str]:
    """Codes for `target` checked with the other files of `folder` as its history."""
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    run = lint_paths([str(folder / target)], Settings(), load_catalogue())
    return [f.code for f in run.reports[0].findings]


# --- 1. a table TRUNCATEd earlier in the transaction is empty and locked -----------

TRUNCATED_THEN = [
    ("ALTER TABLE t ALTER COLUMN a TYPE bigint;", "ZD202"),
    ("ALTER TABLE t ADD COLUMN u uuid DEFAULT gen_random_uuid();", "ZD201"),
    ("CREATE INDEX t_a ON t (a);", "ZD102"),
    ("ALTER TABLE t ALTER COLUMN a SET NOT NULL;", "ZD101"),
    ("ALTER TABLE t ADD CONSTRAINT t_a_positive CHECK (a > 0);", "ZD104"),
    ("ALTER TABLE t ADD CONSTRAINT t_p FOREIGN KEY (a) REFERENCES p (id);", "ZD105"),
    ("ALTER TABLE t ADD CONSTRAINT t_a_key UNIQUE (a);", "ZD106"),
    ("VACUUM FULL t;", "ZD203"),
]


@pytest.mark.parametrize(("sql", "code"), TRUNCATED_THEN)
def test_work_on_a_table_truncated_earlier_in_the_transaction_is_instant(sql, code):
    assert code in codes(T + sql)  # the rule does fire on a table with rows
    # `p` is locked first: a foreign key's wait for its parent while `t` is held is a
    # real ZD409 of its own, whatever the size of `t`
    parent = "LOCK TABLE p IN SHARE ROW EXCLUSIVE MODE;\n"
    found = codes(T + f"BEGIN;\n{parent}TRUNCATE t;\n{sql}\nCOMMIT;\n")
    assert code not in found
    assert "ZD409" not in found and "ZD410" not in found  # nor is it work under the lock


@pytest.mark.parametrize(("sql", "code"), TRUNCATED_THEN[:3])
def test_a_truncate_outside_a_transaction_does_not_make_the_table_empty(sql, code):
    # it commits at once: the running version may write again before the next statement
    assert code in codes(T + f"TRUNCATE t;\n{sql}\n")


def test_the_emptiness_ends_at_commit():
    assert "ZD102" in codes(T + "BEGIN;\nTRUNCATE t;\nCOMMIT;\nCREATE INDEX t_a ON t (a);\n")


def test_filling_the_truncated_table_from_a_query_ends_its_emptiness():
    refilled = T + "BEGIN;\nTRUNCATE t;\nINSERT INTO t SELECT * FROM t_backup;\n"
    assert "ZD102" in codes(refilled + "CREATE INDEX t_a ON t (a);\nCOMMIT;\n")
    a_few_rows = T + "BEGIN;\nTRUNCATE t;\nINSERT INTO t (a) VALUES (1), (2);\n"
    assert "ZD102" not in codes(a_few_rows + "CREATE INDEX t_a ON t (a);\nCOMMIT;\n")


def test_a_table_created_earlier_in_the_file_is_still_empty():
    sql = T + "CREATE TABLE n (a int);\nALTER TABLE n ALTER COLUMN a TYPE bigint;\n"
    assert codes(sql + "CREATE INDEX n_a ON n (a);\n") == []


# --- 2. a primary key dropped and added again ---------------------------------------


def test_primary_key_dropped_and_added_in_one_statement_is_quiet():
    sql = T + "ALTER TABLE t DROP CONSTRAINT t_pkey, ADD CONSTRAINT t_pkey PRIMARY KEY (id, a);"
    assert "ZD309" not in codes(sql)


def test_primary_key_dropped_and_added_later_in_the_transaction_is_quiet():
    sql = "ALTER TABLE t DROP CONSTRAINT t_pkey;\nALTER TABLE t ADD PRIMARY KEY (id, a);\n"
    assert "ZD309" not in codes(T + f"BEGIN;\n{sql}COMMIT;\n")
    assert "ZD309" not in codes("-- +goose Up\n" + T + sql, GOOSE)


def test_primary_key_added_back_after_a_commit_still_leaves_a_gap():
    sql = "ALTER TABLE t DROP CONSTRAINT t_pkey;\nCOMMIT;\nALTER TABLE t ADD PRIMARY KEY (id);\n"
    assert "ZD309" in codes(T + "BEGIN;\n" + sql)
    assert "ZD309" in codes(
        T + "ALTER TABLE t DROP CONSTRAINT t_pkey;\nALTER TABLE t ADD PRIMARY KEY (id);\n"
    )


def test_primary_key_added_to_another_table_does_not_count():
    sql = "ALTER TABLE t DROP CONSTRAINT t_pkey;\nALTER TABLE u ADD PRIMARY KEY (id);\n"
    assert "ZD309" in codes(T + "BEGIN;\n" + sql + "COMMIT;\n")


# --- 3. DROP INDEX on a table the transaction already holds -------------------------


def test_drop_index_on_a_table_already_locked_is_no_new_wait(tmp_path):
    history = {
        "0001_init.sql": "CREATE TABLE t (id int PRIMARY KEY, a int);\nCREATE INDEX t_a ON t (a);\n"
    }
    same = T + "BEGIN;\nALTER TABLE t ADD COLUMN b int;\nDROP INDEX t_a;\nCOMMIT;\n"
    assert "ZD409" not in folder_codes(tmp_path, {**history, "0002_x.sql": same}, "0002_x.sql")


def test_drop_index_on_another_table_is_a_second_table_held_named_by_its_table(tmp_path):
    files = {
        "0001_init.sql": "CREATE TABLE t (id int);\nCREATE TABLE u (a int);\n"
        "CREATE INDEX u_a ON u (a);\n",
        "0002_x.sql": T + "BEGIN;\nALTER TABLE t ADD COLUMN b int;\nDROP INDEX u_a;\nCOMMIT;\n",
    }
    folder_codes(tmp_path, files, "0002_x.sql")
    run = lint_paths([str(tmp_path / "0002_x.sql")], Settings(), load_catalogue())
    # DROP INDEX takes ACCESS EXCLUSIVE on `u` itself: a second table held, said by ZD408
    [finding] = [f for f in run.reports[0].findings if f.code == "ZD408"]
    assert finding.message.startswith("This statement locks `u` ACCESS EXCLUSIVE while")
    assert "ZD409" not in [f.code for f in run.reports[0].findings]


def test_drop_index_takes_access_exclusive_on_its_table_for_the_rest_of_the_transaction(
    tmp_path,
):
    history = {
        "0001_init.sql": "CREATE TABLE t (id int, a int, b int);\n"
        "CREATE INDEX t_a ON t (a);\nCREATE INDEX t_b ON t (b);\n"
    }
    sql = T + "BEGIN;\nDROP INDEX t_a;\nDROP INDEX t_b;\nCOMMIT;\n"
    found = folder_codes(tmp_path, {**history, "0002_x.sql": sql}, "0002_x.sql")
    assert found.count("ZD103") == 1  # the second drop waits for nothing more
    outside = T + "DROP INDEX t_a;\nDROP INDEX t_b;\n"
    assert (
        folder_codes(tmp_path, {**history, "0002_x.sql": outside}, "0002_x.sql").count("ZD103") == 2
    )


def test_ddl_on_a_table_renamed_in_the_transaction_is_no_second_table():
    sql = "BEGIN;\nALTER TABLE team RENAME TO organization;\n"
    sql += "ALTER TABLE organization ADD COLUMN billing text;\nCOMMIT;\n"
    assert "ZD408" not in codes(T + sql)


# --- 4. a trigger function whose triggers are gone -----------------------------------

TRIGGER_HISTORY = {
    "0001_init.sql": (
        "CREATE TABLE t (id int PRIMARY KEY, a int);\n"
        "CREATE FUNCTION t_touch() RETURNS trigger LANGUAGE plpgsql\n"
        "    AS $$ BEGIN RETURN NEW; END $$;\n"
        "CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION t_touch();\n"
    )
}


def test_a_trigger_function_dropped_after_its_only_trigger_is_quiet(tmp_path):
    sql = T + "DROP TRIGGER t_touch ON t;\nDROP FUNCTION t_touch();\n"
    found = folder_codes(tmp_path, {**TRIGGER_HISTORY, "0002_x.sql": sql}, "0002_x.sql")
    assert "ZD306" not in found


def test_a_trigger_function_still_run_by_another_trigger_is_reported(tmp_path):
    second = (
        "CREATE TRIGGER t_touch_again BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION t_touch();\n"
    )
    history = {"0001_init.sql": TRIGGER_HISTORY["0001_init.sql"] + second}
    sql = T + "DROP TRIGGER t_touch ON t;\nDROP FUNCTION t_touch();\n"
    assert "ZD306" in folder_codes(tmp_path, {**history, "0002_x.sql": sql}, "0002_x.sql")


def test_a_trigger_function_of_a_trigger_dropped_with_its_table_is_quiet(tmp_path):
    sql = T + "DROP TABLE t;\nDROP FUNCTION t_touch();\n"
    found = folder_codes(tmp_path, {**TRIGGER_HISTORY, "0002_x.sql": sql}, "0002_x.sql")
    assert "ZD305" in found and "ZD306" not in found


def test_a_function_that_is_not_a_trigger_function_is_reported(tmp_path):
    history = {
        "0001_init.sql": "CREATE FUNCTION rank(int) RETURNS int LANGUAGE sql AS $$ SELECT $1 $$;\n"
    }
    sql = T + "DROP FUNCTION rank(int);\n"
    assert "ZD306" in folder_codes(tmp_path, {**history, "0002_x.sql": sql}, "0002_x.sql")


def test_the_schema_model_follows_triggers_through_renames_and_drops():
    model = SchemaModel()
    from pglast import parse_sql

    for raw in parse_sql(
        "CREATE TABLE t (a int);"
        "CREATE TRIGGER g AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();"
        "ALTER TRIGGER g ON t RENAME TO h;"
        "ALTER TABLE t RENAME TO u;"
    ):
        model.apply(raw.stmt)
    assert model.triggers == {("u", "h"): "f"}
    model.apply(parse_sql("CREATE FUNCTION f() RETURNS trigger LANGUAGE sql AS ''")[0].stmt)
    assert model.trigger_only_functions == {"f"}
    restored = model_from_json(model_to_json(model))
    assert (restored.triggers, restored.trigger_only_functions) == ({("u", "h"): "f"}, {"f"})
    model.apply(parse_sql("DROP FUNCTION f() CASCADE")[0].stmt)
    assert model.triggers == {}


def test_an_enum_no_column_uses_any_more_is_dropped_quietly(tmp_path):
    history = {
        "0001_init.sql": "CREATE TYPE plan AS ENUM ('free', 'pro');\n"
        "CREATE TABLE team (id int, plan plan, plans plan[]);\n"
    }
    gone = T + "ALTER TABLE team DROP COLUMN plan, DROP COLUMN plans;\nDROP TYPE plan;\n"
    found = folder_codes(tmp_path, {**history, "0002_x.sql": gone}, "0002_x.sql")
    assert "ZD304" in found and "ZD306" not in found
    still_used = T + "ALTER TABLE team DROP COLUMN plan;\nDROP TYPE plan CASCADE;\n"
    assert "ZD306" in folder_codes(tmp_path, {**history, "0002_x.sql": still_used}, "0002_x.sql")


def test_a_type_renamed_away_and_replaced_in_the_same_transaction_is_no_rename_break():
    swap = (
        "CREATE TYPE status_new AS ENUM ('open', 'closed');\n"
        "ALTER TYPE status RENAME TO status_old;\n"
        "ALTER TYPE status_new RENAME TO status;\n"
        "DROP TYPE status_old;\n"
    )
    assert not {"ZD306", "ZD307"} & set(codes(T + "BEGIN;\n" + swap + "COMMIT;\n"))
    assert "ZD307" in codes(T + swap)  # autocommit: a moment without `status`


# --- 5. TEMP scratch tables ----------------------------------------------------------


def test_a_temp_table_concerns_no_shared_table():
    sql = (
        "BEGIN;\nALTER TABLE t ADD COLUMN b int;\n"
        "CREATE TEMP TABLE scratch (a int);\nINSERT INTO scratch VALUES (1);\n"
        "UPDATE scratch SET a = 2;\nDROP TABLE scratch;\nCOMMIT;\n"
    )
    found = codes(T + sql)
    assert not {"ZD305", "ZD407", "ZD408", "ZD409", "ZD501"} & set(found)


def test_drop_if_exists_of_an_unknown_name_then_create_temp_is_a_scratch_table():
    sql = "DROP TABLE IF EXISTS scratch;\nCREATE TEMP TABLE scratch (a int);\n"
    assert codes(sql) == []  # not even ZD401: nobody else can hold a lock on it
    locked = "BEGIN;\nALTER TABLE t ADD COLUMN b int;\n" + sql + "COMMIT;\n"
    assert "ZD409" not in codes(T + locked)


def test_drop_if_exists_of_a_shared_table_the_model_knows_is_still_reported(tmp_path):
    history = {"0001_init.sql": "CREATE TABLE scratch (a int);\n"}
    sql = T + "DROP TABLE IF EXISTS scratch;\nCREATE TEMP TABLE scratch (a int);\n"
    assert "ZD305" in folder_codes(tmp_path, {**history, "0002_x.sql": sql}, "0002_x.sql")


def test_temp_tables_do_not_outlive_their_file(tmp_path):
    files = {
        "0001_a.sql": "CREATE TEMP TABLE scratch (a int);\n",
        "0002_b.sql": T + "DROP TABLE IF EXISTS scratch;\nCREATE TEMP TABLE scratch (a int);\n",
    }
    assert folder_codes(tmp_path, files, "0002_b.sql") == []


# --- 6. a statement that does not parse still creates its table ----------------------


def test_an_unparsable_create_table_still_creates_the_table():
    found = codes(
        T + "CREATE TABLE events (id int,, kind text);\nCREATE INDEX e_k ON events (kind);\n"
    )
    assert found == ["ZD001"]


def test_create_table_if_not_exists_of_a_table_the_model_knows_creates_nothing(tmp_path):
    history = {"0001_init.sql": "CREATE TABLE t (id int, a int);\n"}
    for create in (
        "CREATE TABLE IF NOT EXISTS t (id int, a int);",
        "CREATE TABLE IF NOT EXISTS t (id int,, a int);",
    ):
        sql = T + create + "\nCREATE INDEX t_a ON t (a);\n"
        assert "ZD102" in folder_codes(tmp_path, {**history, "0002_x.sql": sql}, "0002_x.sql")


def test_an_unparsable_create_table_from_history_is_known(tmp_path):
    files = {
        "0001_init.sql": "CREATE TABLE scratch (a int,, b int);\n",
        "0002_x.sql": T + "DROP TABLE IF EXISTS scratch;\nCREATE TEMP TABLE scratch (a int);\n",
    }
    assert "ZD305" in folder_codes(tmp_path, files, "0002_x.sql")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CREATE TABLE foo (a int,, b)", ("foo", False, False)),
        ('create temp table if not exists "S"."Odd""Name" (a', ('Odd"Name', True, True)),
        ("CREATE UNLOGGED TABLE Mixed AS SELEC", ("mixed", False, False)),
        ("CREATE TABLE name PARTITION OF p FOR VALUES IN (", ("name", False, False)),
        ("/* c */ CREATE TABLE c (", ("c", False, False)),
        ("CREATE INDEX i ON t (", None),
        ("CREATE TABLE (", None),
        ("CREATE TABLE x", None),
        ('CREATE TABLE "unterminated', None),
    ],
)
def test_the_table_a_rejected_statement_creates_is_read_from_its_tokens(text, expected):
    assert table_created_by(text) == expected


# --- 7. BEGIN, COMMIT and ROLLBACK that do not do what they seem ---------------------


def test_begin_without_commit_is_reported():
    assert "ZD411" in codes(T + "BEGIN;\nALTER TABLE t ADD COLUMN b int;\n")
    assert "ZD411" not in codes(T + "BEGIN;\nALTER TABLE t ADD COLUMN b int;\nCOMMIT;\n")
    assert "ZD411" not in codes(T + "BEGIN;\nALTER TABLE t ADD COLUMN b int;\nROLLBACK;\n")


def test_begin_without_commit_in_a_batch_tool_file_is_reported():
    # golang-migrate opens no transaction of its own: the batch ends with it open
    sql = "BEGIN;\nALTER TABLE t ADD COLUMN b int;\nALTER TABLE t ADD COLUMN c int;\n"
    assert "ZD411" in codes(T + sql, GOLANG_MIGRATE)


def test_begin_without_commit_inside_the_tools_transaction_is_harmless():
    sql = "-- +goose Up\n" + T + "BEGIN;\nALTER TABLE t ADD COLUMN b int;\n"
    assert not {"ZD411", "ZD413"} & set(codes(sql, GOOSE))


def test_begin_in_the_up_section_committed_only_in_the_down_section_is_reported():
    sql = (
        "-- migrate:up transaction:false\n" + T + "BEGIN;\nALTER TABLE t ADD COLUMN b int;\n"
        "-- migrate:down\nCOMMIT;\n"
    )
    assert "ZD411" in codes(sql, "db/migrations/20240101_x.sql")


def test_commit_inside_the_tools_transaction_is_reported():
    sql = "-- +goose Up\n" + T + "BEGIN;\nALTER TABLE t ADD COLUMN b int;\nCOMMIT;\n"
    assert codes(sql, GOOSE).count("ZD413") == 1
    # a second BEGIN … COMMIT after the first COMMIT is a transaction of the file's own
    twice = sql + "BEGIN;\nALTER TABLE t ADD COLUMN c int;\nCOMMIT;\n"
    assert codes(twice, GOOSE).count("ZD413") == 1


def test_begin_and_commit_in_a_batch_tool_file_are_how_a_transaction_is_written():
    sql = T + "BEGIN;\nALTER TABLE t ADD COLUMN b int;\nALTER TABLE t ADD COLUMN c int;\nCOMMIT;\n"
    assert not {"ZD411", "ZD412", "ZD413"} & set(codes(sql, GOLANG_MIGRATE))
    assert not {"ZD411", "ZD412", "ZD413"} & set(codes(sql))


def test_rollback_in_a_file_a_tool_runs_and_records_is_reported():
    sql = "BEGIN;\nALTER TABLE t ADD COLUMN b int;\nALTER TABLE t ADD COLUMN c int;\nROLLBACK;\n"
    assert "ZD412" in codes(T + sql, GOLANG_MIGRATE)
    assert "ZD412" in codes(
        "-- +goose Up\n" + T + "ALTER TABLE t ADD COLUMN b int;\nROLLBACK;\n", GOOSE
    )
    assert "ZD412" not in codes(T + sql)  # psql: nothing records the migration


def test_rollback_to_a_savepoint_is_not_reported():
    sql = (
        "-- +goose Up\n"
        + T
        + "SAVEPOINT s;\nALTER TABLE t ADD COLUMN b int;\nROLLBACK TO SAVEPOINT s;\n"
    )
    assert "ZD412" not in codes(sql, GOOSE)


# --- 8. copy-then-swap ----------------------------------------------------------------

SWAP = (
    "CREATE TABLE new_t (id int PRIMARY KEY, a int NOT NULL);\n"
    "INSERT INTO new_t (id, a) SELECT id, a FROM t;\n"
)


@pytest.mark.parametrize(
    "swap",
    [
        "DROP TABLE t;\nALTER TABLE new_t RENAME TO t;\n",
        "ALTER TABLE new_t RENAME TO t;\n-- t is the copy from here on\n",
        "ALTER TABLE t RENAME TO t_old;\nALTER TABLE new_t RENAME TO t;\n",
    ],
    ids=["drop-then-rename", "rename-only", "rename-away"],
)
def test_copy_then_swap_loses_late_writes(swap):
    found = codes(T + SWAP + swap)
    assert ("ZD507" in found) == ("t_old" in swap or "DROP" in swap)


def test_copy_then_swap_in_the_other_order_loses_late_writes_too():
    # RENAME fails while `t` exists, so the swap is written DROP-first; the
    # rule reads the two in any order all the same
    assert "ZD507" in codes(
        T
        + SWAP
        + "ALTER TABLE t RENAME TO t_old;\nALTER TABLE new_t RENAME TO t;\nDROP TABLE t_old;\n"
    )


def test_copy_then_swap_message_names_both_tables():
    from tests.support import lint

    [finding] = [
        f
        for f in lint(T + SWAP + "DROP TABLE t;\nALTER TABLE new_t RENAME TO t;\n")
        if f.code == "ZD507"
    ]
    assert "`t`" in finding.message and "`new_t`" in finding.message


def test_copy_then_swap_with_writes_blocked_for_the_whole_swap_is_quiet():
    locked = (
        "BEGIN;\nLOCK TABLE t IN SHARE MODE;\n"
        + SWAP
        + "DROP TABLE t;\nALTER TABLE new_t RENAME TO t;\nCOMMIT;\n"
    )
    assert "ZD507" not in codes(T + locked)


def test_copy_then_swap_with_the_lock_released_before_the_swap_is_reported():
    early = (
        "BEGIN;\nLOCK TABLE t IN SHARE MODE;\n"
        + SWAP
        + "COMMIT;\nDROP TABLE t;\nALTER TABLE new_t RENAME TO t;\n"
    )
    assert "ZD507" in codes(T + early)
    weak = (
        "BEGIN;\nLOCK TABLE t IN ROW EXCLUSIVE MODE;\n"
        + SWAP
        + "DROP TABLE t;\nALTER TABLE new_t RENAME TO t;\nCOMMIT;\n"
    )
    assert "ZD507" in codes(T + weak)


def test_a_copy_without_a_swap_or_of_a_table_created_here_is_quiet():
    assert "ZD507" not in codes(T + SWAP)
    made_here = (
        "CREATE TABLE t (id int, a int);\n"
        + SWAP
        + "DROP TABLE t;\nALTER TABLE new_t RENAME TO t;\n"
    )
    assert "ZD507" not in codes(T + made_here)


ACCOUNTS = {"0001_init.sql": "CREATE TABLE accounts (id bigint PRIMARY KEY, name text);\n"}


@pytest.mark.parametrize(
    "replacement",
    [
        "CREATE TABLE accounts (id bigint PRIMARY KEY, name text, note text);\n",
        "ALTER TABLE accounts_v2 RENAME TO accounts;\n",
    ],
    ids=["created-again", "renamed-in"],
)
def test_a_table_replaced_in_the_transaction_with_all_its_columns_is_not_reported(
    tmp_path, replacement
):
    copy = "CREATE TABLE accounts_v2 (id bigint PRIMARY KEY, name text NOT NULL);\n"
    sql = T + copy + "BEGIN;\nDROP TABLE accounts;\n" + replacement + "COMMIT;\n"
    found = folder_codes(tmp_path, {**ACCOUNTS, "0002_x.sql": sql}, "0002_x.sql")
    assert "ZD305" not in found


@pytest.mark.parametrize(
    "replacement",
    [
        "CREATE TABLE accounts (id bigint PRIMARY KEY, display_name text);\n",
        "CREATE TABLE accounts (id int PRIMARY KEY, name text);\n",
    ],
    ids=["column-gone", "type-changed"],
)
def test_a_table_replaced_by_one_without_its_columns_is_reported(tmp_path, replacement):
    sql = T + "BEGIN;\nDROP TABLE accounts;\n" + replacement + "COMMIT;\n"
    assert "ZD305" in folder_codes(tmp_path, {**ACCOUNTS, "0002_x.sql": sql}, "0002_x.sql")


def test_a_table_replaced_after_commit_or_unknown_to_the_model_is_reported(tmp_path):
    swap = "DROP TABLE accounts;\nCREATE TABLE accounts (id bigint PRIMARY KEY, name text);\n"
    files = {**ACCOUNTS, "0002_x.sql": T + swap}  # autocommit: a moment without the table
    assert "ZD305" in folder_codes(tmp_path, files, "0002_x.sql")
    assert "ZD305" in codes(T + "BEGIN;\n" + swap + "COMMIT;\n")  # columns unknown


def test_dropping_a_foreign_key_holds_its_referenced_table_for_the_rest_of_the_transaction(
    tmp_path,
):
    history = {
        "001_init.sql": "CREATE TABLE p (id int PRIMARY KEY);\n"
        "CREATE TABLE c (id int PRIMARY KEY, p_id int CONSTRAINT c_p_fkey REFERENCES p);\n"
        "CREATE INDEX p_extra ON p (id);\n"
    }
    target = (
        "SET lock_timeout = '2s';\nBEGIN;\nALTER TABLE c DROP CONSTRAINT c_p_fkey;\n"
        "DROP INDEX p_extra;\nCOMMIT;\n"
    )
    found = folder_codes(tmp_path, {**history, "002_change.sql": target}, "002_change.sql")
    # the drop already holds ACCESS EXCLUSIVE on p (measured in pg_locks): no new wait
    assert "ZD103" not in found


def test_a_not_null_column_added_without_a_value_proves_the_table_empty_in_its_transaction():
    added = "ALTER TABLE t ADD COLUMN k int NOT NULL;\n"
    fk = "ALTER TABLE t ADD CONSTRAINT t_k_fkey FOREIGN KEY (k) REFERENCES p (id);\n"
    inside = codes(T + f"BEGIN;\nLOCK TABLE p IN SHARE ROW EXCLUSIVE MODE;\n{added}{fk}COMMIT;\n")
    assert "ZD301" in inside  # the ADD COLUMN itself fails on a table with rows
    assert "ZD105" not in inside  # if it succeeded, the table is empty: nothing to scan
    # outside a transaction the running version may insert rows in between
    assert "ZD105" in codes(T + added + fk)
