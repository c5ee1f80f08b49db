"""The hazard rules (partitions, enums, rewrites, destructive DDL, transaction scope,
timeouts, advisories) on the cases around their edges."""

from __future__ import annotations

import pytest

from tests.support import codes, lint
from zdlint.catalogue import load_catalogue
from zdlint.config import Settings
from zdlint.lint import lint_paths

T = "SET lock_timeout = '3s';\n"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        # partitions
        ("ALTER TABLE p ATTACH PARTITION c FOR VALUES FROM (1) TO (9);", ["ZD107"]),
        (
            "ALTER TABLE c ADD CONSTRAINT b CHECK (k >= 1 AND k < 9) NOT VALID;\n"
            "ALTER TABLE c VALIDATE CONSTRAINT b;\n"
            "ALTER TABLE p ATTACH PARTITION c FOR VALUES FROM (1) TO (9);",
            [],
        ),
        (
            "ALTER TABLE c ADD CONSTRAINT b CHECK (k >= 1 AND k < 9) NOT VALID;\n"
            "ALTER TABLE p ATTACH PARTITION c FOR VALUES FROM (1) TO (9);",
            ["ZD107"],
        ),
        (
            "CREATE TABLE c (k int);\nALTER TABLE p ATTACH PARTITION c FOR VALUES FROM (1) TO (9);",
            [],
        ),
        ("ALTER TABLE p DETACH PARTITION c;", ["ZD108"]),
        ("ALTER TABLE p DETACH PARTITION c CONCURRENTLY;", []),
        ("ALTER TABLE p DETACH PARTITION c FINALIZE;", []),
        (
            "CREATE TABLE p (k int) PARTITION BY RANGE (k);\nCREATE INDEX CONCURRENTLY i ON p (k);",
            ["ZD109"],
        ),
        ("CREATE TABLE p (k int);\nCREATE INDEX CONCURRENTLY i ON p (k);", []),
        ("CREATE INDEX CONCURRENTLY i ON unknown_table (k);", []),
        # index maintenance
        ("REINDEX INDEX i;", ["ZD110"]),
        ("REINDEX TABLE t;", ["ZD110"]),
        ("REINDEX INDEX CONCURRENTLY i;", []),
        ("REINDEX (CONCURRENTLY) TABLE t;", []),
        ("REINDEX (CONCURRENTLY true) TABLE t;", []),
        ("REINDEX (CONCURRENTLY false) TABLE t;", ["ZD110"]),
        ("REINDEX (CONCURRENTLY 0) INDEX i;", ["ZD110"]),
        ("CREATE INDEX i ON t (a);\nREINDEX INDEX i;", ["ZD102"]),
        ("CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);", ["ZD111"]),
        ("CREATE INDEX CONCURRENTLY i ON t (a);", []),
        ("CREATE TABLE n (a int);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON n (a);", []),
        # materialized views, exclusion, domains
        ("REFRESH MATERIALIZED VIEW mv;", ["ZD112"]),
        ("REFRESH MATERIALIZED VIEW CONCURRENTLY mv;", []),
        ("CREATE MATERIALIZED VIEW mv AS SELECT 1 AS a;\nREFRESH MATERIALIZED VIEW mv;", []),
        ("ALTER TABLE t ADD CONSTRAINT x EXCLUDE USING gist (r WITH &&);", ["ZD113"]),
        ("ALTER TABLE t ADD CONSTRAINT k UNIQUE USING INDEX k_idx;", []),
        ("ALTER DOMAIN d ADD CONSTRAINT c CHECK (VALUE > 0);", ["ZD114"]),
        ("ALTER DOMAIN d ADD CONSTRAINT c CHECK (VALUE > 0) NOT VALID;", []),
        ("ALTER DOMAIN d SET NOT NULL;", ["ZD114"]),
        ("ALTER DOMAIN d VALIDATE CONSTRAINT c;", ["ZD114"]),
        ("ALTER DOMAIN d DROP CONSTRAINT c;", []),
        ("CREATE DOMAIN d AS int;\nALTER DOMAIN d ADD CONSTRAINT c CHECK (VALUE > 0);", []),
        # rewrites
        ("VACUUM FULL t;", ["ZD203"]),
        ("VACUUM (FULL, ANALYZE) t;", ["ZD203"]),
        ("VACUUM FULL;", ["ZD203"]),
        ("VACUUM (ANALYZE) t;", []),
        ("VACUUM (FULL FALSE) t;", []),
        ("VACUUM (FULL 0, ANALYZE) t;", []),
        ("VACUUM (FULL off) t;", []),
        ("VACUUM (FULL true) t;", ["ZD203"]),
        ("VACUUM (FULL 1) t;", ["ZD203"]),
        ("CREATE TABLE n (a int);\nVACUUM FULL n;", []),
        ("CLUSTER t USING i;", ["ZD204"]),
        ("CLUSTER;", ["ZD204"]),
        ("ALTER TABLE t SET TABLESPACE fast;", ["ZD205"]),
        ("ALTER TABLE t SET LOGGED;", ["ZD205"]),
        ("ALTER TABLE t SET UNLOGGED;", ["ZD205"]),
        ("CREATE TABLE n (a int);\nALTER TABLE n SET UNLOGGED;", []),
        ("ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a * 2) STORED;", ["ZD206"]),
        ("ALTER TABLE t ADD COLUMN g int;", []),
        # compatibility
        ("DROP VIEW v;", ["ZD306"]),
        ("DROP MATERIALIZED VIEW mv;", ["ZD306"]),
        ("DROP FUNCTION f(int);", ["ZD306"]),
        ("DROP PROCEDURE p();", ["ZD306"]),
        ("DROP TYPE mood;", ["ZD306"]),
        ("DROP DOMAIN d;", ["ZD306"]),
        ("CREATE VIEW v AS SELECT 1;\nDROP VIEW v;", []),
        ("CREATE TYPE mood AS ENUM ('a');\nDROP TYPE mood;", []),
        ("ALTER VIEW v RENAME TO w;", ["ZD307"]),
        ("ALTER TYPE mood RENAME TO feeling;", ["ZD307"]),
        ("ALTER FUNCTION f(int) RENAME TO g;", ["ZD307"]),
        ("ALTER TYPE mood RENAME VALUE 'a' TO 'b';", ["ZD307"]),  # the old label is gone
        ("CREATE VIEW v AS SELECT 1;\nALTER VIEW v RENAME TO w;", []),
        ("DROP TABLE t CASCADE;", ["ZD305", "ZD308"]),
        ("DROP SCHEMA s CASCADE;", ["ZD308"]),
        ("DROP SCHEMA s;", []),
        ("CREATE TABLE n (a int);\nDROP TABLE n CASCADE;", []),
        ("ALTER TABLE t DROP CONSTRAINT t_pkey;", ["ZD309"]),
        ("ALTER TABLE t DROP CONSTRAINT t_a_check;", []),
        ("ALTER TABLE t REPLICA IDENTITY NOTHING;", ["ZD309"]),
        ("ALTER TABLE t REPLICA IDENTITY FULL;", ["ZD309"]),
        ("ALTER TABLE t REPLICA IDENTITY USING INDEX t_key;", ["ZD309"]),
        ("CREATE TABLE n (id int PRIMARY KEY);\nALTER TABLE n DROP CONSTRAINT n_pkey;", []),
        # data
        ("TRUNCATE t;", ["ZD503"]),
        ("TRUNCATE t, u CASCADE;", ["ZD503"]),
        ("CREATE TABLE n (a int);\nTRUNCATE n;", []),
        ("ALTER TABLE t DISABLE TRIGGER ALL;", ["ZD504"]),
        ("ALTER TABLE t DISABLE TRIGGER USER;", []),
        ("ALTER TABLE t DISABLE TRIGGER audit;", []),
        ("SET session_replication_role = replica;", ["ZD504"]),
        ("SET session_replication_role = origin;", []),
        ("CREATE TABLE n (a int);\nALTER TABLE n DISABLE TRIGGER ALL;", []),
    ],
)
def test_hazard_rule_fires_exactly_where_expected(sql, expected):
    assert sorted(codes(T + sql)) == sorted(expected)


def _with_history(folder, earlier: str, sql: str):
    """Findings of `sql` as the second migration of a folder whose first is `earlier`."""
    (folder / "0001_init.sql").write_text(earlier)
    target = folder / "0002_change.sql"
    target.write_text(sql)
    return lint_paths([str(target)], Settings(), load_catalogue()).reports[0].findings


def test_a_primary_key_known_from_the_schema_is_recognised_whatever_its_name(tmp_path):
    findings = _with_history(
        tmp_path,
        "CREATE TABLE t (id int CONSTRAINT t_identity PRIMARY KEY);\n",
        T + "ALTER TABLE t DROP CONSTRAINT t_identity;",
    )
    (finding,) = findings
    assert finding.code == "ZD309"
    assert "primary key `t_identity`" in finding.message
    assert codes(T + "ALTER TABLE t DROP CONSTRAINT t_identity;") == []


def test_attach_message_names_the_partition_the_parent_and_the_lock():
    (finding,) = lint(T + "ALTER TABLE public.m ATTACH PARTITION m_2024 DEFAULT;")
    assert finding.code == "ZD107"
    assert "`m_2024`" in finding.message and "`public.m`" in finding.message
    assert "ACCESS EXCLUSIVE" in finding.message


def test_a_partitioned_table_known_from_the_schema_rejects_concurrent_indexes(tmp_path):
    sql = T + "CREATE INDEX CONCURRENTLY events_k ON events (k);"
    earlier = "CREATE TABLE events (k int) PARTITION BY LIST (k);\n"
    assert [f.code for f in _with_history(tmp_path, earlier, sql)] == ["ZD109"]
    assert codes(sql) == []


def test_reindex_message_names_the_target_and_both_locks():
    (finding,) = lint(T + "REINDEX TABLE orders;")
    assert "`REINDEX TABLE orders`" in finding.message
    assert "SHARE" in finding.message and "ACCESS EXCLUSIVE" in finding.message


def test_refresh_message_names_the_view_and_access_exclusive():
    (finding,) = lint(T + "REFRESH MATERIALIZED VIEW totals;")
    assert finding.lock == "AccessExclusiveLock"
    assert "`totals`" in finding.message and "reads and writes" in finding.message


# --- enums ---------------------------------------------------------------------------


def test_a_new_enum_label_used_in_the_same_transaction_is_flagged_at_the_literal():
    sql = T + (
        "BEGIN;\n"
        "ALTER TYPE status ADD VALUE 'archived';\n"
        "UPDATE items SET status = 'archived' WHERE id = 1;\n"
        "COMMIT;\n"
    )
    (finding,) = lint(sql)
    assert finding.code == "ZD406"
    assert finding.span.line == 4 and finding.span.column == 27
    assert "'archived'" in finding.message and "`status`" in finding.message


@pytest.mark.parametrize(
    "use",
    [
        "INSERT INTO items (status) VALUES ('archived');",
        "ALTER TABLE items ALTER COLUMN status SET DEFAULT 'archived';",
        "ALTER TABLE items ADD CONSTRAINT c CHECK (status <> 'archived') NOT VALID;",
        "DO $$ BEGIN UPDATE items SET status = 'archived' WHERE id = 7; END $$;",
    ],
)
def test_every_kind_of_use_of_a_new_label_in_its_transaction_is_flagged(use):
    sql = T + f"BEGIN;\nALTER TYPE status ADD VALUE 'archived';\n{use}\nCOMMIT;\n"
    assert "ZD406" in codes(sql)


def test_a_new_label_is_usable_after_commit_and_other_literals_are_not_flagged():
    sql = T + (
        "BEGIN;\nALTER TYPE status ADD VALUE 'archived';\n"
        "UPDATE items SET note = 'other' WHERE id = 1;\nCOMMIT;\n"
        "UPDATE items SET status = 'archived' WHERE id = 1;\n"
    )
    assert codes(sql) == []


def test_add_value_outside_a_transaction_leaves_the_label_usable():
    sql = T + (
        "ALTER TYPE status ADD VALUE 'archived';\n"
        "UPDATE items SET status = 'archived' WHERE id = 1;"
    )
    assert codes(sql) == []


def test_a_tool_wrapped_file_is_one_transaction_for_enum_labels():
    sql = (
        "-- +goose Up\n"
        + T
        + "ALTER TYPE status ADD VALUE 'archived';\n"
        + "UPDATE items SET status = 'archived' WHERE id = 1;\n"
    )
    assert codes(sql) == ["ZD406"]


# --- transaction scope ------------------------------------------------------------------


def test_a_backfill_after_ddl_in_one_transaction_is_flagged_with_the_held_lock():
    sql = T + (
        "BEGIN;\nALTER TABLE users ADD COLUMN full_name text;\n"
        "UPDATE users SET full_name = fullname;\nCOMMIT;\n"
    )
    findings = lint(sql)
    assert [f.code for f in findings] == ["ZD407"]  # ZD407 supersedes the batching advice
    (backfill,) = [f for f in findings if f.code == "ZD407"]
    assert backfill.lock == "AccessExclusiveLock" and "`users`" in backfill.message


@pytest.mark.parametrize(
    ("between", "expected"),
    [
        ("COMMIT;\nBEGIN;\n", []),  # the DDL committed first
        ("", ["ZD407"]),
    ],
)
def test_committing_the_ddl_first_clears_the_backfill_finding(between, expected):
    sql = T + (
        "BEGIN;\nALTER TABLE users ADD COLUMN n int;\n"
        + between
        + "INSERT INTO users_archive SELECT * FROM users;\nCOMMIT;\n"
    )
    assert codes(sql) == expected


def test_a_backfill_in_a_goose_file_after_ddl_is_flagged():
    sql = "-- +goose Up\n" + T + "ALTER TABLE t ADD COLUMN n int;\nDELETE FROM t WHERE n IS NULL;\n"
    assert codes(sql) == ["ZD407"]  # ZD407 supersedes the batching advice


def test_a_batched_update_or_insert_values_after_ddl_is_not_a_backfill():
    sql = T + (
        "BEGIN;\nALTER TABLE t ADD COLUMN n int;\n"
        "UPDATE t SET n = 1 WHERE id = 5;\nINSERT INTO t (id) VALUES (1);\nCOMMIT;\n"
    )
    assert codes(sql) == []


def test_access_exclusive_on_a_second_table_is_flagged_at_the_second_table():
    sql = T + (
        "BEGIN;\nALTER TABLE a ADD COLUMN x int;\nALTER TABLE a ADD COLUMN y int;\n"
        "ALTER TABLE b ADD COLUMN x int;\nCOMMIT;\n"
    )
    (finding,) = lint(sql)
    assert finding.code == "ZD408" and finding.span.line == 5
    assert "`b`" in finding.message and "`a`" in finding.message


def test_several_tables_outside_a_transaction_or_new_ones_are_quiet():
    assert codes(T + "ALTER TABLE a ADD COLUMN x int;\nALTER TABLE b ADD COLUMN x int;") == []
    sql = T + "BEGIN;\nCREATE TABLE n (a int);\nALTER TABLE a ADD COLUMN x int;\n"
    assert codes(sql + "ALTER TABLE n ADD COLUMN y int;\nCOMMIT;") == []


def test_one_statement_locking_two_tables_in_a_transaction_is_flagged():
    assert "ZD408" in codes(T + "BEGIN;\nTRUNCATE a, b;\nCOMMIT;")


def test_tables_dropped_for_good_in_one_transaction_are_not_several_locked_tables():
    """Nothing may still use a table that is dropped (ZD305 says so if something does),
    so no traffic queues on it and no application locks it in the other order."""
    assert "ZD408" not in codes(T + "BEGIN;\nDROP TABLE a, b;\nCOMMIT;")


def test_work_after_access_exclusive_is_reported_once_per_transaction():
    sql = T + (
        "BEGIN;\nALTER TABLE a ADD COLUMN x int;\n"
        "SELECT count(*) FROM big;\nSELECT count(*) FROM big;\nCOMMIT;\n"
        "BEGIN;\nALTER TABLE a ADD COLUMN y int;\nSELECT count(*) FROM big;\nCOMMIT;\n"
    )
    findings = lint(sql)
    assert [(f.code, f.span.line) for f in findings] == [("ZD409", 4), ("ZD409", 9)]
    assert "`a`" in findings[0].message and "A query" in findings[0].message


@pytest.mark.parametrize(
    "after",
    [
        "COMMIT;",
        "SET LOCAL statement_timeout = '5s';\nCOMMIT;",
        "ALTER TABLE a ADD CONSTRAINT c CHECK (x > 0) NOT VALID;\nCOMMIT;",
        "CREATE TABLE n (a int);\nINSERT INTO n VALUES (1);\nCOMMIT;",
        "SELECT set_config('lock_timeout', '1s', true);\nCOMMIT;",
    ],
)
def test_safe_patterns_after_access_exclusive_are_not_work(after):
    sql = T + "BEGIN;\nALTER TABLE a ADD COLUMN x int;\n" + after
    assert codes(sql) == []


def test_validate_under_a_held_lock_is_work_but_not_twice_with_zd403():
    sql = T + (
        "BEGIN;\nALTER TABLE a ADD COLUMN x int;\nALTER TABLE b VALIDATE CONSTRAINT c;\nCOMMIT;\n"
    )
    assert codes(sql) == ["ZD409"]
    same = T + (
        "BEGIN;\nALTER TABLE a ADD CONSTRAINT c CHECK (x > 0) NOT VALID;\n"
        "ALTER TABLE a VALIDATE CONSTRAINT c;\nCOMMIT;\n"
    )
    assert codes(same) == ["ZD403"]


def test_lock_on_another_table_while_holding_access_exclusive_is_work():
    sql = T + "BEGIN;\nALTER TABLE a ADD COLUMN x int;\nCREATE TRIGGER g AFTER INSERT ON b "
    sql += "FOR EACH ROW EXECUTE FUNCTION f();\nCOMMIT;\n"
    (finding,) = lint(sql)
    assert finding.code == "ZD409" and "`b`" in finding.message


# --- statement_timeout (opt-in) -------------------------------------------------------

ZD410 = {"extend_select": ("ZD410",)}


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("CREATE INDEX CONCURRENTLY i ON t (a);", ["ZD410"]),
        ("ALTER TABLE t VALIDATE CONSTRAINT c;", ["ZD410"]),
        ("ALTER TABLE t ALTER COLUMN a TYPE bigint;", ["ZD202", "ZD410"]),
        ("ALTER TABLE t ALTER COLUMN a TYPE text;", []),
        ("UPDATE t SET a = 1;", ["ZD410", "ZD501"]),
        ("UPDATE t SET a = 1 WHERE id = 3;", []),
        ("ALTER TABLE t ADD COLUMN a int;", []),
        ("SET statement_timeout = '30min';\nCREATE INDEX CONCURRENTLY i ON t (a);", []),
        ("SET statement_timeout = 0;\nCREATE INDEX CONCURRENTLY i ON t (a);", ["ZD410"]),
        ("CREATE TABLE n (a int);\nCREATE INDEX CONCURRENTLY i ON n (a);", []),
    ],
)
def test_statement_timeout_rule_fires_only_on_table_sized_work(sql, expected):
    assert sorted(codes(T + sql, **ZD410)) == expected


def test_statement_timeout_is_reported_once_per_stretch_and_again_after_reset():
    sql = T + (
        "CREATE INDEX CONCURRENTLY i ON t (a);\nCREATE INDEX CONCURRENTLY j ON t (b);\n"
        "SET statement_timeout = '1h';\nCREATE INDEX CONCURRENTLY k ON t (c);\n"
        "RESET statement_timeout;\nCREATE INDEX CONCURRENTLY l ON t (d);\n"
    )
    assert [f.span.line for f in lint(sql, **ZD410)] == [2, 7]


def test_statement_timeout_is_off_by_default():
    assert codes(T + "CREATE INDEX CONCURRENTLY i ON t (a);") == []


# --- advisories -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("CREATE TABLE n (a json, b jsonb);", ["ZD505"]),
        ("ALTER TABLE t ADD COLUMN a json;", ["ZD505"]),
        ("ALTER TABLE t ALTER COLUMN a TYPE json;", ["ZD202", "ZD505"]),
        ("CREATE TABLE n (a timestamp, b timestamptz);", ["ZD506"]),
        ("CREATE TABLE n (a timestamp(3) without time zone);", ["ZD506"]),
        ("CREATE TABLE n (a timestamp with time zone);", []),
        ("ALTER TABLE t ADD COLUMN a timestamp;", ["ZD506"]),
    ],
)
def test_advisories_fire_when_selected(sql, expected):
    assert sorted(codes(T + sql, extend_select=("ZD505", "ZD506"))) == expected


def test_advisories_are_off_by_default_and_point_at_the_column():
    assert codes(T + "CREATE TABLE n (a json);") == []
    (finding,) = lint("CREATE TABLE n (id int, payload json);", extend_select=("ZD505",))
    assert finding.span.column == 25 and "`n.payload`" in finding.message


def test_dropping_a_type_renamed_away_earlier_in_the_file_is_not_a_second_break():
    """Prisma's enum change: rename the old type, create the new one, drop the old."""
    sql = (
        "SET lock_timeout = '2s';\n"
        'ALTER TYPE "Status" RENAME TO "Status_old";\n'
        "CREATE TYPE \"Status\" AS ENUM ('a', 'b');\n"
        'DROP TYPE "Status_old";\n'
    )
    found = codes(sql)
    assert "ZD307" in found  # the rename is what breaks the running version
    assert "ZD306" not in found


def test_a_view_dropped_and_recreated_in_one_transaction_is_not_a_break():
    sql = "BEGIN;\nDROP VIEW user_view;\nCREATE VIEW user_view AS SELECT 1 AS id;\nCOMMIT;\n"
    assert "ZD306" not in codes(sql)
    # outside a transaction the view is missing between the two statements
    assert "ZD306" in codes(sql.replace("BEGIN;\n", "").replace("COMMIT;\n", ""))
    # and a drop that is never followed by a new definition still breaks the old code
    assert "ZD306" in codes("BEGIN;\nDROP VIEW user_view;\nCOMMIT;\n")


def test_not_null_on_a_column_this_file_adds_breaks_the_running_writers():
    base = "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN nick text;\n"
    assert "ZD310" in codes(base + "ALTER TABLE users ALTER COLUMN nick SET NOT NULL;\n")
    assert "ZD310" in codes(
        base + "ALTER TABLE users ADD CONSTRAINT c CHECK (nick IS NOT NULL) NOT VALID;\n"
    )
    # a default fills the column for writers that do not know it
    with_default = base + "ALTER TABLE users ALTER COLUMN nick SET DEFAULT '';\n"
    assert "ZD310" not in codes(
        with_default + "ALTER TABLE users ALTER COLUMN nick SET NOT NULL;\n"
    )
    # a column from an earlier release is the contract step: ZD101's business, not ZD310's
    assert "ZD310" not in codes(
        "SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n"
    )
    # a new table has no running writers
    assert "ZD310" not in codes(
        "CREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN n text;\n"
        "ALTER TABLE t ALTER COLUMN n SET NOT NULL;\n"
    )


def test_attach_partition_locks_the_partition_not_the_parent_in_access_exclusive():
    from zdlint.sql.locking import TableLock, access_exclusive_tables, statement_locks
    from zdlint.sql.parse import parse_fast

    (raw,) = parse_fast(
        "ALTER TABLE measurements ATTACH PARTITION m2024 FOR VALUES FROM (1) TO (2)"
    )
    assert statement_locks(raw.stmt) == [
        TableLock("measurements", "ShareUpdateExclusiveLock"),
        TableLock("m2024", "AccessExclusiveLock"),
    ]
    assert access_exclusive_tables(raw.stmt) == ["m2024"]
    sql = (
        "SET lock_timeout = '2s';\nBEGIN;\n"
        "ALTER TABLE measurements ATTACH PARTITION m2024 FOR VALUES FROM (1) TO (2);\n"
        "ALTER TABLE m2024 DROP CONSTRAINT m2024_bound;\nCOMMIT;\n"
    )
    found = codes(sql)
    assert "ZD408" not in found and "ZD409" not in found


def test_a_new_table_waiting_for_its_parents_lock_under_a_held_access_exclusive_is_work():
    sql = (
        "SET lock_timeout = '2s';\nBEGIN;\nALTER TABLE a ADD COLUMN c int;\n"
        "CREATE TABLE child (id int PRIMARY KEY, p int REFERENCES parent (id));\nCOMMIT;\n"
    )
    findings = [f for f in lint(sql) if f.code == "ZD409"]
    assert len(findings) == 1 and findings[0].span.line == 4
    assert "`parent`" in findings[0].message and "`a`" in findings[0].message


def test_a_backfill_under_the_ddl_lock_is_reported_once_as_zd407_not_also_as_unbatched():
    sql = "SET lock_timeout = '1s';\nBEGIN;\nALTER TABLE t ADD COLUMN c int;\n"
    assert codes(sql + "UPDATE t SET c = 1;\nCOMMIT;\n") == ["ZD407"]
    assert "ZD501" in codes("UPDATE t SET c = 1;\n")  # alone, it is an unbatched backfill


def test_updating_a_system_catalog_in_the_ddl_transaction_is_no_backfill():
    sql = (
        "SET lock_timeout = '1s';\nBEGIN;\nALTER TABLE t ADD COLUMN c int;\n"
        "UPDATE pg_index SET indisready = false WHERE indrelid = 't'::regclass;\nCOMMIT;\n"
    )
    assert "ZD407" not in codes(sql) and "ZD501" not in codes(sql)
