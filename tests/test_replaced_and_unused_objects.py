"""Objects replaced within one transaction, objects nothing uses any more, and which
relations count for ZD408 (ACCESS EXCLUSIVE on several tables).

A name dropped or renamed away and created again before COMMIT never goes missing for
the running version (ZD305/ZD306/ZD307); in autocommit the window is real. A type that
the schema model knows no column, type, view or function uses can be dropped (ZD306),
and CASCADE drops nothing more when the model knows nothing depends on the object
(ZD308). DISABLE TRIGGER ALL undone before COMMIT lets no other session write (ZD504).
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from pglast.enums import ObjectType

from tests.support import codes, lint
from zdlint.catalogue import load_catalogue
from zdlint.config import Settings
from zdlint.lint import lint_paths
from zdlint.sql.parse import parse_fast
from zdlint.sql.schema import SchemaModel
from zdlint.sql.snapshots import model_from_json, model_to_json

T = "SET lock_timeout = '2s';\n"


def tx(*statements: str) -> str:
    return T + "BEGIN;\n" + "\n".join(statements) + "\nCOMMIT;\n"


def autocommit(*statements: str) -> str:
    return T + "\n".join(statements) + "\n"


def model_of(sql: str) -> SchemaModel:
    model = SchemaModel()
    for raw in parse_fast(sql):
        model.apply(raw.stmt)
    return model


def history_codes(tmp_path: Path, earlier: str, sql: str) -> list[str]:
    """Codes of `sql` checked as the second migration of a folder whose first is `earlier`."""
    (tmp_path / "0001_earlier.sql").write_text(earlier)
    target = tmp_path / "0002_target.sql"
    target.write_text(sql)
    run = lint_paths([str(target)], Settings(), load_catalogue())
    return [f.code for f in run.reports[0].findings]


# --- replacement within one transaction (ZD305, ZD306, ZD307) -------------------------


DAILY = "CREATE TABLE daily_totals (day date PRIMARY KEY, total bigint);\n"


def test_a_table_dropped_and_created_again_in_one_transaction_is_not_dropped(tmp_path):
    create = "CREATE TABLE daily_totals (day date PRIMARY KEY, total bigint, refunds bigint);"
    assert "ZD305" not in history_codes(tmp_path, DAILY, tx("DROP TABLE daily_totals;", create))
    # autocommit: between the two statements there is no table of that name
    found = history_codes(tmp_path, DAILY, autocommit("DROP TABLE daily_totals;", create))
    assert "ZD305" in found


def test_a_table_created_again_with_columns_the_model_cannot_see_is_reported(tmp_path):
    """CREATE TABLE … AS has the columns of its query: nothing shows the running version's
    queries still find theirs."""
    create = "CREATE TABLE daily_totals AS SELECT 1 AS total;"
    assert "ZD305" in history_codes(tmp_path, DAILY, tx("DROP TABLE daily_totals;", create))


def test_a_table_rebuilt_by_its_query_with_every_old_column_is_replaced(tmp_path):
    """A derived table refreshed by CREATE TABLE … AS keeps its name and, when the query
    names them, its columns; `SELECT *` of its source is taken as the same shape."""
    drop = "DROP TABLE daily_totals;"
    named = "CREATE TABLE daily_totals AS SELECT day, sum(n) AS total FROM sales GROUP BY day;"
    into = "CREATE TABLE daily_totals (day, total) AS SELECT d, 0 FROM sales;"
    star = "CREATE TABLE daily_totals AS SELECT * FROM daily_view;"
    for create in (named, into, star):
        assert "ZD305" not in history_codes(tmp_path, DAILY, tx(drop, create)), create


def test_a_commit_between_drop_and_create_opens_the_window_again():
    sql = tx("DROP TABLE daily_totals;", "COMMIT;", "BEGIN;", "CREATE TABLE daily_totals (a int);")
    assert "ZD305" in codes(sql)


@pytest.mark.parametrize(
    "create",
    [
        "CREATE TEMP TABLE daily_totals (a int);",
        "CREATE TEMPORARY TABLE daily_totals AS SELECT 1 AS a;",
    ],
)
def test_a_temporary_table_of_the_same_name_replaces_nothing(create):
    assert "ZD305" in codes(tx("DROP TABLE daily_totals;", create))
    assert "ZD306" in codes(tx("DROP VIEW report;", "CREATE TEMP VIEW report AS SELECT 1 AS a;"))


def test_a_table_replaced_by_a_view_of_the_same_name_is_still_a_dropped_table():
    sql = tx("DROP TABLE daily_totals;", "CREATE VIEW daily_totals AS SELECT 1 AS total;")
    assert "ZD305" in codes(sql)


def test_views_dropped_together_and_created_again_in_one_transaction_are_not_dropped():
    sql = tx(
        "DROP VIEW person_alias_1, person_alias_2;",
        "CREATE VIEW person_alias_1 AS SELECT 1 AS id;",
        "CREATE VIEW person_alias_2 AS SELECT 1 AS id;",
    )
    assert codes(sql) == []


def test_only_the_view_not_created_again_is_reported():
    sql = tx("DROP VIEW kept_view, gone_view;", "CREATE VIEW kept_view AS SELECT 1 AS id;")
    (finding,) = lint(sql)
    assert finding.code == "ZD306" and "`gone_view`" in finding.message
    assert "kept_view" not in finding.message


def test_a_function_dropped_and_created_again_in_one_transaction_is_not_dropped():
    create = "CREATE FUNCTION Canonical(text) RETURNS text LANGUAGE sql AS $$ SELECT $1 $$;"
    assert "ZD306" not in codes(tx("DROP FUNCTION canonical(text);", create))
    assert "ZD306" in codes(autocommit("DROP FUNCTION canonical(text);", create))


@pytest.mark.parametrize(
    "swap",
    [
        # Prisma: build the new type, move the columns, swap the names
        [
            "CREATE TYPE \"Status_new\" AS ENUM ('open', 'closed');",
            'ALTER TYPE "Status" RENAME TO "Status_old";',
            'ALTER TYPE "Status_new" RENAME TO "Status";',
            'DROP TYPE "Status_old";',
        ],
        # rename the old type away, create the new one under the old name
        [
            'ALTER TYPE "Status" RENAME TO "Status_old";',
            "CREATE TYPE \"Status\" AS ENUM ('open', 'closed');",
            'DROP TYPE "Status_old";',
        ],
    ],
)
def test_an_enum_swapped_in_one_transaction_keeps_its_name(swap):
    assert codes(tx(*swap)) == []
    # without a transaction the running version meets a moment without "Status"
    assert "ZD307" in codes(autocommit(*swap))


def test_an_enum_swap_in_a_prisma_migration_is_wrapped_by_prisma(tmp_path):
    folder = tmp_path / "migrations" / "20240101000000_status"
    folder.mkdir(parents=True)
    (tmp_path / "migrations" / "migration_lock.toml").write_text('provider = "postgresql"\n')
    sql = (
        'ALTER TYPE "Status" RENAME TO "Status_old";\n'
        "CREATE TYPE \"Status\" AS ENUM ('open', 'closed');\n"
        'DROP TYPE "Status_old";\n'
    )
    assert codes(sql, folder / "migration.sql") == []


def test_a_type_renamed_in_a_transaction_that_never_recreates_the_name_breaks():
    assert "ZD307" in codes(tx('ALTER TYPE "Status" RENAME TO "State";'))
    # a view of the old name does not stand in for the type
    sql = tx('ALTER TYPE "Status" RENAME TO "State";', 'CREATE VIEW "Status" AS SELECT 1 AS a;')
    assert "ZD307" in codes(sql)


def test_a_view_renamed_away_and_created_again_in_one_transaction_keeps_its_name():
    sql = tx("ALTER VIEW report RENAME TO report_old;", "CREATE VIEW report AS SELECT 1 AS n;")
    assert "ZD307" not in codes(sql)


# --- the schema model knows what depends on what ---------------------------------------


def test_the_model_lists_the_users_of_a_type():
    model = model_of(
        "CREATE TYPE mood AS ENUM ('ok');"
        "CREATE TYPE pair AS (a mood, b int);"
        "CREATE DOMAIN happy AS mood;"
        "CREATE TABLE people (id int, feeling mood[]);"
        "CREATE VIEW v AS SELECT 'ok'::mood AS m;"
        "CREATE FUNCTION cheer(m mood) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;"
        "CREATE TYPE unused AS ENUM ('x');"
    )
    assert sorted(model.dependents(ObjectType.OBJECT_TYPE, "mood") or []) == [
        "column `people.feeling`",
        "function `cheer`",
        "type `happy`",
        "type `pair`",
        "view `v`",
    ]
    assert model.dependents(ObjectType.OBJECT_TYPE, "unused") == []
    assert model.dependents(ObjectType.OBJECT_TYPE, "never_created") is None


def test_a_function_body_naming_a_type_counts_as_a_use():
    model = model_of(
        "CREATE TYPE \"Kind\" AS ENUM ('a');"
        "CREATE FUNCTION pick() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN NEW.k := 'a'::\"Kind\"; RETURN NEW; END $$;"
    )
    assert model.dependents(ObjectType.OBJECT_TYPE, "Kind") == ["function `pick`"]


def test_the_model_lists_foreign_keys_and_views_on_a_table():
    model = model_of(
        "CREATE TABLE users (id int PRIMARY KEY);"
        "CREATE TABLE orders (id int, user_id int REFERENCES users (id));"
        "CREATE VIEW active AS SELECT id FROM users;"
        "CREATE TABLE lonely (id int);"
    )
    assert sorted(model.dependents(ObjectType.OBJECT_TABLE, "users") or []) == [
        "foreign key `orders_user_id_fkey` of `orders`",
        "view `active`",
    ]
    assert model.dependents(ObjectType.OBJECT_TABLE, "lonely") == []


def test_a_table_known_only_from_alter_table_has_unknown_dependents():
    model = model_of("ALTER TABLE legacy ADD COLUMN a int;")
    assert model.dependents(ObjectType.OBJECT_TABLE, "legacy") is None


def test_drop_and_rename_of_types_views_and_functions_update_the_model():
    model = model_of(
        "CREATE TYPE mood AS ENUM ('ok', 'sad');"
        "ALTER TYPE mood RENAME TO mood_old;"
        "CREATE TYPE gone AS ENUM ('x'); DROP TYPE gone;"
        "CREATE VIEW v AS SELECT 1; ALTER VIEW v RENAME TO w;"
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$; DROP FUNCTION f();"
    )
    assert model.enums == {"mood_old": ["ok", "sad"]}
    assert set(model.types) == {"mood_old"}
    assert set(model.views) == {"w"}
    assert model.routine_types == {} and model.functions == {}


def test_the_dependency_facts_survive_a_snapshot_round_trip():
    model = model_of(
        "CREATE TYPE mood AS ENUM ('ok');"
        "CREATE TABLE users (id int PRIMARY KEY, m mood);"
        "CREATE TABLE orders (id int, user_id int REFERENCES users (id));"
        "CREATE MATERIALIZED VIEW totals AS SELECT count(*) FROM orders;"
        "CREATE FUNCTION f(m mood) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;"
        "ALTER TABLE legacy ADD COLUMN a int;"
        "CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();"
    )
    assert model.routine_users == {"touch"}  # count() is in the view's own names
    assert model_from_json(model_to_json(model)) == model


# --- types nothing uses any more (ZD306) -------------------------------------------------

STATUS = "CREATE TYPE status AS ENUM ('new', 'done');\n"


def test_dropping_a_type_whose_tables_were_dropped_earlier_is_quiet(tmp_path):
    earlier = STATUS + "CREATE TABLE job (id int, s status);\nDROP TABLE job;\n"
    assert history_codes(tmp_path, earlier, T + "DROP TYPE status;\n") == []


def test_dropping_a_type_a_column_still_uses_is_reported(tmp_path):
    earlier = STATUS + "CREATE TABLE job (id int, s status);\n"
    assert history_codes(tmp_path, earlier, T + "DROP TYPE status;\n") == ["ZD306"]


def test_dropping_a_type_used_by_a_composite_type_is_reported(tmp_path):
    earlier = STATUS + "CREATE TYPE step AS (s status, n int);\n"
    assert history_codes(tmp_path, earlier, T + "DROP TYPE status;\n") == ["ZD306"]


def test_dropping_a_type_the_model_does_not_know_is_reported():
    # no history: the type may be used by tables the model has never seen
    assert codes(T + "DROP TYPE status;\n") == ["ZD306"]


def test_a_type_whose_table_this_migration_drops_is_reported_once_as_the_table(tmp_path):
    earlier = STATUS + "CREATE TABLE job (id int, s status);\n"
    found = history_codes(tmp_path, earlier, T + "DROP TABLE job;\nDROP TYPE status;\n")
    assert found == ["ZD305"]


# --- CASCADE that drops nothing more (ZD308) --------------------------------------------


USERS_TAGS = (
    "CREATE TABLE users (id int PRIMARY KEY);\nCREATE TABLE tags (user_id int REFERENCES users);\n"
)


def test_cascade_on_a_table_nothing_references_drops_nothing_more(tmp_path):
    found = history_codes(tmp_path, USERS_TAGS, T + "DROP TABLE tags CASCADE;\n")
    assert found == ["ZD305"]


def test_cascade_on_a_table_a_foreign_key_references_is_reported(tmp_path):
    found = history_codes(tmp_path, USERS_TAGS, T + "DROP TABLE users CASCADE;\n")
    assert sorted(found) == ["ZD305", "ZD308"]


def test_cascade_on_a_table_a_view_reads_is_reported(tmp_path):
    earlier = "CREATE TABLE users (id int);\nCREATE VIEW admins AS SELECT id FROM users;\n"
    found = history_codes(tmp_path, earlier, T + "DROP TABLE users CASCADE;\n")
    assert sorted(found) == ["ZD305", "ZD308"]


def test_cascade_on_an_unused_type_is_quiet_and_on_a_used_one_reported(tmp_path):
    earlier = STATUS + "CREATE TYPE unused AS ENUM ('x');\nCREATE TABLE job (s status);\n"
    assert history_codes(tmp_path, earlier, T + "DROP TYPE unused CASCADE;\n") == []
    assert sorted(history_codes(tmp_path, earlier, T + "DROP TYPE status CASCADE;\n")) == [
        "ZD306",
        "ZD308",
    ]


def test_cascade_on_objects_the_model_does_not_know_or_track_is_reported():
    assert "ZD308" in codes(T + "DROP FUNCTION unknown_function() CASCADE;\n")
    assert "ZD308" in codes(T + "DROP SCHEMA app CASCADE;\n")
    assert "ZD308" in codes(T + "DROP TABLE unknown_table CASCADE;\n")


TOUCH = (
    "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n"
    "CREATE TABLE users (id int, updated_at timestamptz);\n"
)
# A function a default, an index or a view can call (PostgreSQL refuses a trigger
# function anywhere but in a trigger: "trigger functions can only be called as triggers").
STAMP = (
    "CREATE FUNCTION touch() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 1 $$;\n"
    "CREATE TABLE users (id int, updated_at timestamptz);\n"
)


@pytest.mark.parametrize(
    ("earlier", "expected"),
    [
        (STAMP, ["ZD306"]),  # only the application calls it: CASCADE drops nothing more
        (
            TOUCH
            + "CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();\n",
            ["ZD306", "ZD308"],
        ),
        (STAMP + "ALTER TABLE users ADD COLUMN stamp int DEFAULT touch();\n", ["ZD306", "ZD308"]),
        (STAMP + "CREATE INDEX users_touch ON users ((touch()));\n", ["ZD306", "ZD308"]),
        (STAMP + "CREATE VIEW touched AS SELECT touch();\n", ["ZD306", "ZD308"]),
        # a trigger function no trigger runs: nothing can call it, so neither finding
        (TOUCH, []),
    ],
)
def test_cascade_on_a_function_drops_what_calls_it(tmp_path, earlier, expected):
    found = history_codes(tmp_path, earlier, T + "DROP FUNCTION touch() CASCADE;\n")
    assert sorted(found) == expected


def test_a_function_once_called_by_a_dropped_trigger_still_counts_as_called(tmp_path):
    """The model keeps every call it has seen: it may keep a finding, never lose one."""
    earlier = TOUCH + (
        "CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();\n"
        "DROP TRIGGER t ON users;\n"
    )
    assert "ZD308" in history_codes(tmp_path, earlier, T + "DROP FUNCTION touch() CASCADE;\n")


# --- DISABLE TRIGGER ALL undone before COMMIT (ZD504) -----------------------------------

DISABLE = "ALTER TABLE orders DISABLE TRIGGER ALL;"
FIXUP = "UPDATE orders SET total = 0 WHERE id = 1;"


def test_triggers_enabled_again_before_commit_let_no_other_session_write():
    assert "ZD504" not in codes(tx(DISABLE, FIXUP, "ALTER TABLE orders ENABLE TRIGGER ALL;"))


def test_triggers_left_disabled_at_commit_are_reported():
    assert "ZD504" in codes(tx(DISABLE, FIXUP))
    # ENABLE TRIGGER USER leaves the foreign-key (internal) triggers disabled
    assert "ZD504" in codes(tx(DISABLE, "ALTER TABLE orders ENABLE TRIGGER USER;"))
    # enabling another table's triggers does not help this one
    assert "ZD504" in codes(tx(DISABLE, "ALTER TABLE users ENABLE TRIGGER ALL;"))


def test_triggers_enabled_again_only_after_a_commit_are_reported():
    sql = tx(DISABLE, "COMMIT;", "BEGIN;", "ALTER TABLE orders ENABLE TRIGGER ALL;")
    assert "ZD504" in codes(sql)
    # autocommit: other sessions write between the two statements
    sql = autocommit(DISABLE, FIXUP, "ALTER TABLE orders ENABLE TRIGGER ALL;")
    assert "ZD504" in codes(sql)


# --- which relations count for ZD408 -------------------------------------------------------


def zd408(sql: str) -> list[str]:
    return [f.message for f in lint(sql) if f.code == "ZD408"]


def test_views_replaced_in_one_transaction_do_not_count_as_locked_tables():
    sql = tx(
        "DROP VIEW user_view;",
        "DROP VIEW post_view;",
        "ALTER TABLE users ADD COLUMN nick text;",
        "CREATE VIEW user_view AS SELECT 1 AS id;",
        "CREATE VIEW post_view AS SELECT 1 AS id;",
    )
    assert zd408(sql) == []


def test_tables_created_or_dropped_for_good_in_the_transaction_do_not_count():
    sql = tx(
        "CREATE TABLE fresh (id int);",
        "ALTER TABLE users ADD COLUMN nick text;",
        "ALTER TABLE fresh ADD COLUMN n int;",
        "DROP TABLE retired;",
    )
    assert zd408(sql) == []


def test_a_second_existing_table_is_reported_naming_both():
    (message,) = zd408(
        tx("ALTER TABLE users ADD COLUMN a int;", "ALTER TABLE orders ADD COLUMN b int;")
    )
    assert message.startswith("This statement locks `orders` ACCESS EXCLUSIVE")
    assert "holds that lock on `users`" in message


def test_a_table_dropped_and_created_again_is_in_use_and_counts():
    sql = tx(
        "ALTER TABLE users ADD COLUMN a int;",
        "DROP TABLE totals;",
        "CREATE TABLE totals (n int);",
    )
    (message,) = zd408(sql)
    assert "`totals`" in message and "`users`" in message


def test_one_statement_locking_two_tables_names_them_all():
    (message,) = zd408(tx("TRUNCATE a, b, c;"))
    assert "locks `b`, `c` ACCESS EXCLUSIVE" in message and "lock on `a`" in message
    (message,) = zd408(tx("ALTER TABLE users ADD COLUMN x int;", "LOCK TABLE a, b;"))
    assert "locks `a`, `b` ACCESS EXCLUSIVE" in message and "lock on `users`" in message


def test_renaming_an_index_is_not_a_second_table():
    sql = tx(
        "ALTER TABLE users ADD COLUMN a int;", "ALTER INDEX users_a_idx RENAME TO users_b_idx;"
    )
    assert zd408(sql) == []


def test_a_lock_on_a_table_while_only_views_are_held_is_not_work_under_a_lock():
    sql = tx(
        "DROP VIEW user_view;",
        "ALTER TABLE users ADD COLUMN nick text;",
        "CREATE VIEW user_view AS SELECT 1 AS id;",
    )
    assert codes(sql) == []


# --- an enum replaced by one with fewer labels (ZD306) -------------------------------------

ORDER_STATUS = "CREATE TYPE order_status AS ENUM ('new', 'paid', 'refunded');\n"


@pytest.mark.parametrize(
    "swap",
    [
        [
            "ALTER TYPE order_status RENAME TO order_status_old;",
            "CREATE TYPE order_status AS ENUM ('new', 'paid');",
            "DROP TYPE order_status_old;",
        ],
        [
            "CREATE TYPE order_status_new AS ENUM ('new', 'paid');",
            "ALTER TYPE order_status RENAME TO order_status_old;",
            "ALTER TYPE order_status_new RENAME TO order_status;",
            "DROP TYPE order_status_old;",
        ],
    ],
)
def test_an_enum_swapped_for_one_without_a_label_reports_the_lost_label(swap):
    found = [
        f
        for f in lint(ORDER_STATUS + tx(*swap), "0002.sql")
        if f.code == "ZD306"  # the type is created in the file only to give the model its labels
    ]
    (finding,) = found
    assert finding.message.startswith(
        "Replacing enum `order_status` with a type that lacks 'refunded'"
    )
    assert finding.span.line == len(swap) + 3  # the DROP of the old type
    assert "'refunded'" in finding.help


def test_an_enum_swapped_for_one_with_every_label_is_quiet():
    swap = tx(
        "ALTER TYPE order_status RENAME TO order_status_old;",
        "CREATE TYPE order_status AS ENUM ('new', 'refunded', 'paid', 'disputed');",
        "DROP TYPE order_status_old;",
    )
    assert codes(ORDER_STATUS + swap) == []


def test_an_enum_swap_the_model_has_no_labels_for_reports_nothing_more():
    swap = tx(
        "ALTER TYPE order_status RENAME TO order_status_old;",
        "CREATE TYPE order_status AS ENUM ('new');",
        "DROP TYPE order_status_old;",
    )
    assert codes(swap) == []


def test_many_lost_labels_are_summarised():
    labels = ", ".join(f"'l{i}'" for i in range(8))
    swap = tx(
        "ALTER TYPE e RENAME TO e_old;",
        "CREATE TYPE e AS ENUM ('keep');",
        "DROP TYPE e_old;",
    )
    (finding,) = lint(f"CREATE TYPE e AS ENUM ('keep', {labels});\n" + swap)
    assert "lacks 'l0', 'l1', 'l2', 'l3', 'l4' and 3 more" in finding.message


def test_disable_trigger_blocks_every_other_writer_until_commit(pg_dsn):
    """The fact ZD504's quiet case rests on, checked on a real server: DISABLE TRIGGER
    takes SHARE ROW EXCLUSIVE, so no other session writes the table before COMMIT, and
    ENABLE TRIGGER ALL in the same transaction leaves enforcement on for everyone."""
    with psycopg.connect(pg_dsn, autocommit=True) as setup:
        setup.execute("CREATE TABLE customers (id int PRIMARY KEY)")
        setup.execute(
            "CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers)"
        )
    with psycopg.connect(pg_dsn) as migration, psycopg.connect(pg_dsn, autocommit=True) as other:
        migration.execute("ALTER TABLE orders DISABLE TRIGGER ALL")
        modes = migration.execute(
            "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid()"
            " AND relation = 'orders'::regclass"
        ).fetchall()
        assert [mode for (mode,) in modes] == ["ShareRowExclusiveLock"]
        other.execute("SET lock_timeout = '200ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            other.execute("INSERT INTO orders VALUES (1, 999)")
        migration.execute("ALTER TABLE orders ENABLE TRIGGER ALL")
        migration.commit()
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            other.execute("INSERT INTO orders VALUES (1, 999)")


# --- an enum label renamed (ZD307) ---------------------------------------------------------


def test_renaming_a_label_the_running_version_knows_is_reported(tmp_path):
    earlier = "CREATE TYPE visibility AS ENUM ('Public', 'LocalOnly');\n"
    sql = "ALTER TYPE visibility RENAME VALUE 'LocalOnly' TO 'LocalOnlyPrivate';\n"
    target = tmp_path / "0002_target.sql"
    assert history_codes(tmp_path, earlier, sql) == ["ZD307"]
    run = lint_paths([str(target)], Settings(), load_catalogue())
    (finding,) = run.reports[0].findings
    assert finding.message.startswith(
        "Renaming enum `visibility` label `'LocalOnly'` to `'LocalOnlyPrivate'` breaks"
    )
    assert "forward" not in finding.help and "{" not in finding.help


def test_renaming_a_label_of_a_type_created_in_the_same_file_is_quiet():
    earlier = "CREATE TYPE visibility AS ENUM ('Public', 'LocalOnly');\n"
    sql = "ALTER TYPE visibility RENAME VALUE 'LocalOnly' TO 'LocalOnlyPrivate';\n"
    assert codes(earlier + sql) == []


def test_renaming_a_label_of_a_type_the_model_does_not_know_is_reported():
    assert codes("ALTER TYPE visibility RENAME VALUE 'a' TO 'b';\n") == ["ZD307"]


def test_the_help_for_a_label_rename_adds_the_new_label_and_keeps_the_old_one():
    """PostgreSQL has no DROP VALUE: the expand step is ADD VALUE, and the old label stays."""
    (finding,) = lint("ALTER TYPE \"Visibility\" RENAME VALUE 'a' TO 'it''s';\n")
    assert "`ALTER TYPE \"Visibility\" ADD VALUE 'it''s';`" in finding.help
    assert "drop the old one" not in finding.help


def test_renaming_a_label_this_file_added_is_quiet(tmp_path):
    earlier = "CREATE TYPE visibility AS ENUM ('Public');\n"
    sql = (
        "ALTER TYPE visibility ADD VALUE 'Draft';\n"
        "ALTER TYPE visibility RENAME VALUE 'Draft' TO 'Hidden';\n"
    )
    assert "ZD307" not in history_codes(tmp_path, earlier, sql)


def test_renaming_a_label_of_a_replacement_type_that_the_old_type_had_is_reported(tmp_path):
    """lemmy's swap: the new type copies the old labels, then renames one of them."""
    earlier = "CREATE TYPE visibility AS ENUM ('Public', 'LocalOnly');\n"
    sql = tx(
        "ALTER TYPE visibility RENAME TO visibility__;",
        "CREATE TYPE visibility AS ENUM ('Public', 'LocalOnly', 'Unlisted');",
        "DROP TYPE visibility__;",
        "ALTER TYPE visibility RENAME VALUE 'LocalOnly' TO 'LocalOnlyPrivate';",
    )
    assert history_codes(tmp_path, earlier, sql) == ["ZD307"]
