"""The tutorial's statements: the unsafe ones are flagged, the safe patterns are clean."""

from __future__ import annotations

from tests.support import codes, lint

TIMEOUT = "SET lock_timeout = '3s';\n"


def test_bare_set_not_null_is_flagged_with_table_column_and_lock():
    (finding,) = lint(TIMEOUT + "ALTER TABLE users ALTER COLUMN email SET NOT NULL;")
    assert finding.code == "ZD101"
    assert "`users.email`" in finding.message
    assert "ACCESS EXCLUSIVE" in finding.message and "reads and writes" in finding.message
    assert finding.lock == "AccessExclusiveLock"
    assert finding.span.line == 2


def test_check_not_valid_validate_set_not_null_sequence_is_clean():
    sql = TIMEOUT + (
        "ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE users VALIDATE CONSTRAINT users_email_nn;\n"
        "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n"
        "ALTER TABLE users DROP CONSTRAINT users_email_nn;\n"
    )
    assert codes(sql) == []


def test_the_check_shortcut_does_not_apply_before_postgres_12():
    sql = TIMEOUT + (
        "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE users VALIDATE CONSTRAINT c;\n"
        "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n"
    )
    assert codes(sql, pg_version=11) == ["ZD101"]
    assert codes(sql, pg_version=12) == []


def test_a_not_valid_check_alone_does_not_quiet_set_not_null():
    sql = TIMEOUT + (
        "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n"
    )
    assert codes(sql) == ["ZD101"]


def test_non_concurrent_create_index_is_flagged_and_concurrent_is_clean():
    assert codes(TIMEOUT + "CREATE INDEX users_email_idx ON users (email);") == ["ZD102"]
    assert codes(TIMEOUT + "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);") == []


def test_unbatched_backfill_is_flagged():
    (finding,) = lint("UPDATE users SET full_name = fullname WHERE full_name IS NULL;")
    assert finding.code == "ZD501"
    assert "`UPDATE users`" in finding.message


def test_batched_backfill_procedure_with_commit_per_batch_is_clean():
    sql = """
CREATE PROCEDURE backfill_full_name() LANGUAGE plpgsql AS $$
DECLARE rows_updated integer;
BEGIN
  LOOP
    UPDATE users SET full_name = fullname
     WHERE id IN (SELECT id FROM users WHERE full_name IS NULL LIMIT 1000);
    GET DIAGNOSTICS rows_updated = ROW_COUNT;
    COMMIT;
    EXIT WHEN rows_updated = 0;
  END LOOP;
END $$;
CALL backfill_full_name();
"""
    assert codes(sql) == []


def test_calling_a_procedure_whose_update_is_unbounded_is_flagged_at_the_call():
    sql = """CREATE PROCEDURE fill() LANGUAGE plpgsql AS $$
BEGIN
  UPDATE users SET full_name = fullname;
END $$;
CALL fill();
"""
    (finding,) = lint(sql)
    assert finding.code == "ZD501" and finding.span.line == 5
    assert "in the body of fill" in finding.message


def test_unbounded_update_inside_a_do_block_points_at_the_update():
    sql = "DO $$\nBEGIN\n  UPDATE users SET a = 1;\nEND $$;\n"
    (finding,) = lint(sql)
    assert finding.code == "ZD501"
    assert (finding.span.line, finding.span.column) == (3, 3)


def test_ddl_without_lock_timeout_is_flagged_once_and_after_set_lock_timeout_is_clean():
    sql = "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users ADD COLUMN b int;\n"
    assert codes(sql) == ["ZD401"]
    assert codes(TIMEOUT + sql) == []


def test_lock_timeout_zero_does_not_count_as_a_timeout():
    assert codes("SET lock_timeout = 0;\nALTER TABLE users ADD COLUMN a int;") == ["ZD401"]


def test_set_local_lock_timeout_lapses_after_commit():
    sql = (
        "BEGIN;\nSET LOCAL lock_timeout = '2s';\nALTER TABLE users ADD COLUMN a int;\nCOMMIT;\n"
        "ALTER TABLE users ADD COLUMN b int;\n"
    )
    (finding,) = lint(sql)
    assert finding.code == "ZD401" and finding.span.line == 5


def test_concurrently_inside_begin_commit_is_flagged():
    sql = TIMEOUT + "BEGIN;\nCREATE INDEX CONCURRENTLY i ON users (email);\nCOMMIT;\n"
    (finding,) = lint(sql)
    assert finding.code == "ZD402" and "explicit BEGIN" in finding.message


def test_tables_created_in_the_same_file_are_quiet_for_every_rule():
    sql = """CREATE TABLE widgets (id bigint PRIMARY KEY, name text, price int);
ALTER TABLE widgets ALTER COLUMN name SET NOT NULL;
CREATE INDEX widgets_name ON widgets (name);
UPDATE widgets SET price = 0;
DELETE FROM widgets;
ALTER TABLE widgets ADD CONSTRAINT p CHECK (price >= 0);
ALTER TABLE widgets ADD COLUMN u uuid DEFAULT gen_random_uuid();
ALTER TABLE widgets ALTER COLUMN price TYPE bigint;
ALTER TABLE widgets ADD COLUMN tenant int NOT NULL;
ALTER TABLE widgets RENAME COLUMN name TO title;
ALTER TABLE widgets DROP COLUMN title;
ALTER TABLE widgets ADD UNIQUE (price);
DROP TABLE widgets;
"""
    assert codes(sql) == []
