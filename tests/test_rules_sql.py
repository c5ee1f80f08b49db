"""Each SQL rule on the cases around its edges."""

from __future__ import annotations

import pytest

from tests.support import codes, lint, lint_after

T = "SET lock_timeout = '3s';\n"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("ALTER TABLE t ADD COLUMN u uuid DEFAULT gen_random_uuid();", ["ZD201"]),
        ("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT clock_timestamp();", ["ZD201"]),
        ("ALTER TABLE t ADD COLUMN n bigserial;", ["ZD201"]),
        ("ALTER TABLE t ADD COLUMN n int GENERATED ALWAYS AS IDENTITY;", ["ZD201"]),
        ("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now();", []),
        ("ALTER TABLE t ADD COLUMN c int DEFAULT 0;", []),
        ("ALTER TABLE t ADD COLUMN c int NOT NULL;", ["ZD301"]),
        ("ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0;", []),
        ("ALTER TABLE t ALTER COLUMN c TYPE bigint;", ["ZD202"]),
        ("ALTER TABLE t ALTER COLUMN c TYPE varchar(20);", []),
        ("ALTER TABLE t ALTER COLUMN c TYPE text;", []),
        ("ALTER TABLE t ALTER COLUMN c TYPE jsonb USING c::jsonb;", ["ZD202"]),
        ("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);", ["ZD104"]),
        ("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;", []),
        ("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (id);", ["ZD105"]),
        ("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (id) NOT VALID;", []),
        ("ALTER TABLE t ADD CONSTRAINT k UNIQUE (a);", ["ZD106"]),
        ("ALTER TABLE t ADD PRIMARY KEY (id);", ["ZD106"]),
        ("ALTER TABLE t ADD CONSTRAINT k UNIQUE USING INDEX k_idx;", []),
        ("DROP INDEX i;", ["ZD103"]),
        ("DROP INDEX CONCURRENTLY i;", []),
        ("ALTER TABLE t RENAME COLUMN a TO b;", ["ZD302"]),
        ("ALTER TABLE t RENAME TO u;", ["ZD303"]),
        ("ALTER TABLE t DROP COLUMN a;", ["ZD304"]),
        ("DROP TABLE t;", ["ZD305"]),
        ("DELETE FROM t WHERE created_at < now() - interval '1 year';", ["ZD502"]),
        ("DELETE FROM t WHERE id = 42;", []),
        ("UPDATE t SET a = 1 WHERE id >= 1 AND id < 1000;", []),
        ("UPDATE t SET a = 1 WHERE id >= 1;", ["ZD501"]),
        ("UPDATE t SET a = 1 WHERE ctid = ANY(ARRAY(SELECT ctid FROM t LIMIT 100));", []),
        ("UPDATE t SET a = 1 WHERE id IN (1, 2, 3);", []),
        ("UPDATE t SET a = 1;", ["ZD501"]),
        ("UPDATE t SET a = 1 FROM u WHERE u.id = t.u_id;", ["ZD501"]),
    ],
)
def test_rule_fires_exactly_where_expected(sql, expected):
    assert codes(T + sql) == expected


def test_validate_in_the_same_transaction_as_not_valid_add_is_flagged():
    sql = T + (
        "BEGIN;\n"
        "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;\n"
        "ALTER TABLE t VALIDATE CONSTRAINT c;\n"
        "COMMIT;\n"
    )
    assert codes(sql) == ["ZD403"]
    assert codes(sql.replace("NOT VALID;\n", "NOT VALID;\nCOMMIT;\nBEGIN;\n")) == []


def test_validate_in_the_same_statement_as_not_valid_add_is_flagged():
    sql = T + "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID, VALIDATE CONSTRAINT c;"
    assert codes(sql) == ["ZD403"]


def test_validate_in_a_file_a_tool_wraps_is_flagged():
    sql = (
        "-- +goose Up\n"
        + T
        + (
            "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;\n"
            "ALTER TABLE t VALIDATE CONSTRAINT c;\n"
        )
    )
    assert codes(sql) == ["ZD403"]


def test_lock_timeout_above_the_configured_maximum_is_flagged():
    assert codes("SET lock_timeout = '30s';") == ["ZD404"]
    assert codes("SET lock_timeout = '30s';", max_lock_timeout_ms=60_000) == []


def test_a_constant_default_is_instant_from_postgres_11():
    sql = T + "ALTER TABLE t ADD COLUMN c int DEFAULT 0;"
    assert codes(sql, pg_version=11) == []


def test_messages_name_the_table_the_column_and_the_lock():
    (finding,) = lint(T + "ALTER TABLE public.orders ALTER COLUMN id TYPE bigint;")
    assert "`public.orders.id`" in finding.message
    assert "bigint" in finding.message
    assert "ACCESS EXCLUSIVE" in finding.message


def test_foreign_key_message_names_both_tables_and_the_weaker_lock():
    (finding,) = lint(
        T + "ALTER TABLE orders ADD CONSTRAINT f FOREIGN KEY (c) REFERENCES customers (id);"
    )
    assert "`orders`" in finding.message and "`customers`" in finding.message
    assert "SHARE ROW EXCLUSIVE" in finding.message


def test_ddl_on_a_table_already_locked_in_this_transaction_needs_no_second_timeout_report():
    sql = "BEGIN;\nLOCK TABLE t IN ACCESS EXCLUSIVE MODE;\nALTER TABLE t ADD COLUMN a int;\nCOMMIT;"
    assert codes(sql) == ["ZD401"]


def test_an_alter_table_meets_the_checks_of_its_subcommands_once_each_in_check_order():
    from zdlint.sql.checks import checks_by_node_type, checks_for
    from zdlint.sql.parse import parse_fast

    table = {k: tuple((c, None) for c in v) for k, v in checks_by_node_type().items()}

    def rules(sql: str) -> list[str]:
        return [c.rule for c, _ in checks_for(parse_fast(sql)[0].stmt, table)]

    both = rules("ALTER TABLE t ALTER COLUMN a SET NOT NULL, ADD CONSTRAINT c CHECK (a > 0)")
    assert both.count("ZD101") == 1 and "ZD104" in both and "ZD301" not in both
    orders = [
        c.order
        for c, _ in checks_for(
            parse_fast("ALTER TABLE t ADD COLUMN a int, DROP COLUMN b")[0].stmt, table
        )
    ]
    assert orders == sorted(orders)
    assert {"ZD301", "ZD304"} <= set(rules("ALTER TABLE t ADD COLUMN a int, DROP COLUMN b"))
    owner = rules("ALTER TABLE t OWNER TO app")  # no subcommand check applies
    assert "ZD401" in owner and not {"ZD101", "ZD301", "ZD304"} & set(owner)


def test_set_not_null_on_several_columns_of_one_statement_is_one_scan_and_one_finding():
    sql = T + 'ALTER TABLE t ALTER COLUMN a SET NOT NULL, ALTER COLUMN "B" SET NOT NULL;\n'
    (finding,) = [f for f in lint(sql) if f.code == "ZD101"]
    assert "`t.a` and `t.B`" in finding.message
    assert 'CHECK ("B" IS NOT NULL) NOT VALID' in (finding.help or "")
    assert finding.help.startswith("Prove them first")
    assert 'VALIDATE CONSTRAINT t_a_not_null, VALIDATE CONSTRAINT "t_B_not_null";`' in finding.help
    separate = (
        T
        + "ALTER TABLE t ALTER COLUMN a SET NOT NULL;\nALTER TABLE t ALTER COLUMN b SET NOT NULL;\n"
    )
    assert codes(separate).count("ZD101") == 2  # two statements, two scans


def test_renaming_or_dropping_a_column_this_file_added_breaks_nothing_running():
    added = T + "ALTER TABLE t ADD COLUMN tmp int;\n"
    assert "ZD302" not in codes(added + "ALTER TABLE t RENAME COLUMN tmp TO final;\n")
    renamed_then_dropped = (
        "ALTER TABLE t RENAME COLUMN tmp TO final;\nALTER TABLE t DROP COLUMN final;\n"
    )
    assert not {"ZD302", "ZD304"} & set(codes(added + renamed_then_dropped))
    # a column that was there before this file is known to the running version
    assert "ZD302" in codes(T + "ALTER TABLE t RENAME COLUMN old TO final;\n")
    assert "ZD304" in codes(T + "ALTER TABLE t DROP COLUMN old;\n")


def test_a_column_copied_and_swapped_under_its_name_is_a_type_change_not_a_drop():
    history = "CREATE TABLE ev (id int PRIMARY KEY, at timestamp(3), hits int);\n"
    swap = T + (
        "BEGIN;\nALTER TABLE ev ADD COLUMN at_ns bigint, ADD COLUMN hits_big bigint;\n"
        "UPDATE ev SET at_ns = extract(epoch FROM at) * 1e9, hits_big = hits;\n"
        "ALTER TABLE ev DROP COLUMN at, DROP COLUMN hits;\n"
        "ALTER TABLE ev RENAME COLUMN at_ns TO at;\n"
        "ALTER TABLE ev RENAME COLUMN hits_big TO hits;\nCOMMIT;\n"
    )
    found = [(f.code, f.message) for f in lint_after(history, swap) if f.code in ("ZD304", "ZD312")]
    # `at` goes from timestamp to bigint: the running version's writes fail; `hits` fits.
    assert [code for code, _ in found] == ["ZD312"]
    assert "`ev.at` from timestamp(3) without time zone to bigint" in found[0][1]
    # Without the copy the values are gone: a drop after all.
    dropped = [f.code for f in lint_after(history, swap.replace("UPDATE ev SET", "SELECT"))]
    assert dropped.count("ZD304") == 2


def test_a_new_column_renamed_into_a_dropped_columns_name_is_known_to_the_running_version():
    swap = T + (
        "BEGIN;\nALTER TABLE prompts ADD COLUMN json_prompt jsonb;\n"
        "ALTER TABLE prompts DROP COLUMN prompt;\n"
        "ALTER TABLE prompts RENAME COLUMN json_prompt TO prompt;\n"
        "ALTER TABLE prompts ALTER COLUMN prompt SET NOT NULL;\nCOMMIT;\n"
    )
    found = codes(swap)
    assert "ZD304" in found  # the old column's data goes
    # the running version writes `prompt`: not a column it does not know (ZD310's premise)
    assert "ZD310" not in found
    assert "ZD310" in codes(
        swap.replace(
            "RENAME COLUMN json_prompt TO prompt", "RENAME COLUMN json_prompt TO fresh"
        ).replace("COLUMN prompt SET", "COLUMN fresh SET")
    )


def test_a_column_the_tables_trigger_function_now_fills_needs_no_default_for_writers():
    # post_stats rows come from a trigger on post: the running version's writes fire the
    # function this file redefines, and it sets author_id.
    history = (
        "CREATE TABLE post (id bigint PRIMARY KEY, author_id bigint);\n"
        "CREATE TABLE post_stats (post_id bigint PRIMARY KEY);\n"
        "CREATE FUNCTION post_stats_add() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN INSERT INTO post_stats (post_id) VALUES (NEW.id); RETURN NULL; END $$;\n"
        "CREATE TRIGGER post_stats_add AFTER INSERT ON post\n"
        "  FOR EACH ROW EXECUTE FUNCTION post_stats_add();\n"
    )
    function = (
        "CREATE OR REPLACE FUNCTION post_stats_add() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        'BEGIN INSERT INTO post_stats (post_id, "author_id") VALUES (NEW.id, NEW.author_id);\n'
        "RETURN NULL; END $$;\n"
    )
    change = (
        T
        + "ALTER TABLE post_stats ADD COLUMN author_id bigint;\n{function}"
        + ("ALTER TABLE post_stats ALTER COLUMN author_id SET NOT NULL;\n")
    )

    def zd310(sql: str) -> int:
        return [f.code for f in lint_after(history, sql)].count("ZD310")

    assert zd310(change.format(function=function)) == 0
    assert zd310(change.format(function="")) == 1  # the old function leaves it NULL
    # a function no trigger runs is no writer of the table
    plain = function.replace("RETURNS trigger", "RETURNS void").replace("RETURN NULL;", "")
    assert zd310(change.format(function=plain.replace("post_stats_add", "fill"))) == 1


def test_the_statements_of_a_do_block_are_checked_where_the_block_writes_them():
    sql = (
        "DO $$\nBEGIN\n"
        "  ALTER TABLE users ADD COLUMN code text;\n"
        "  UPDATE users SET code = id::text;\n"
        "  CREATE UNIQUE INDEX users_code ON users (code);\n"
        "END $$;\n"
    )
    found = [(f.span.line, f.span.column, f.code, f.fixable) for f in lint(sql)]
    # the block is one transaction: the backfill runs under the ADD COLUMN's lock
    # (ZD407, which says more than ZD501), and nothing inside it can be moved by a fix
    assert found == [
        (3, 3, "ZD401", False),
        (4, 3, "ZD407", False),
        (5, 3, "ZD102", False),
    ]


def test_a_foreign_key_added_in_a_do_block_with_an_exception_handler_is_checked():
    # the shape Drizzle and hand-written Prisma migrations use to add keys idempotently
    sql = T + (
        "DO $$ BEGIN\n"
        ' ALTER TABLE "orders" ADD CONSTRAINT "orders_user_fk" FOREIGN KEY ("user_id")'
        ' REFERENCES "users"("id");\n'
        "EXCEPTION WHEN duplicate_object THEN null;\nEND $$;\n"
    )
    assert codes(sql) == ["ZD105"]
