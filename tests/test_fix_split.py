"""ALTER TABLE with several subcommands: split into one statement per subcommand, in the
order PostgreSQL runs them, so that each part can be fixed on its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fix_support import fix_source
from tests.support import lint
from zdlint.fix.split import split_alter
from zdlint.source import SourceText
from zdlint.sql.parse import parse_statements


def _split(sql: str) -> list[str] | None:
    (stmt,) = parse_statements(SourceText(sql))
    return split_alter(stmt, sql)


def test_subcommands_become_statements_with_the_users_quoting():
    assert _split('ALTER TABLE "User" ADD COLUMN "tenantId" TEXT,\nADD COLUMN "nick" TEXT') == [
        'ALTER TABLE "User" ADD COLUMN "tenantId" TEXT;',
        'ALTER TABLE "User" ADD COLUMN "nick" TEXT;',
    ]


def test_parts_follow_postgresqls_passes_not_the_written_order():
    # PostgreSQL adds the column before the constraint that names it, whatever the order
    assert _split(
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) "
        "REFERENCES customers (id), ADD COLUMN customer_id bigint"
    ) == [
        "ALTER TABLE orders ADD COLUMN customer_id bigint;",
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) "
        "REFERENCES customers (id);",
    ]


def test_drop_then_add_of_the_same_name_keeps_that_order():
    assert _split('ALTER TABLE "W" DROP COLUMN "status",\nADD COLUMN "status" TEXT') == [
        'ALTER TABLE "W" DROP COLUMN "status";',
        'ALTER TABLE "W" ADD COLUMN "status" TEXT;',
    ]


def test_type_changes_stay_in_one_statement_so_the_table_is_rewritten_once():
    assert _split(
        "ALTER TABLE t ALTER COLUMN a TYPE bigint, ALTER COLUMN a SET DEFAULT 0,"
        " ALTER COLUMN b TYPE numeric(10, 2)"
    ) == [
        "ALTER TABLE t ALTER COLUMN a TYPE bigint,\nALTER COLUMN b TYPE numeric(10, 2);",
        "ALTER TABLE t ALTER COLUMN a SET DEFAULT 0;",
    ]


def test_commas_inside_brackets_and_strings_do_not_cut():
    assert _split(
        "ALTER TABLE t ALTER COLUMN a SET DEFAULT ARRAY[1,2], ADD COLUMN b text DEFAULT 'x,y'"
    ) == [
        "ALTER TABLE t ADD COLUMN b text DEFAULT 'x,y';",
        "ALTER TABLE t ALTER COLUMN a SET DEFAULT ARRAY[1,2];",
    ]


def test_comments_between_subcommands_go_with_the_part_after_them():
    assert _split(
        "ALTER TABLE ONLY s.t\n  -- the flag\n  ADD COLUMN f bool,\n"
        "  -- the note\n  ADD COLUMN n text"
    ) == [
        "-- the flag\nALTER TABLE ONLY s.t ADD COLUMN f bool;",
        "-- the note\nALTER TABLE ONLY s.t ADD COLUMN n text;",
    ]


@pytest.mark.parametrize(
    "sql",
    [
        # a partition operation: not split
        "ALTER TABLE t ATTACH PARTITION p FOR VALUES IN (1), ADD COLUMN b int",
        # an inline CHECK on one new column naming a column added after it
        "ALTER TABLE t ADD COLUMN a int CHECK (a > b), ADD COLUMN b int",
        # USING INDEX and a new index swap passes between PostgreSQL versions
        "ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_id_idx,"
        " ADD CONSTRAINT t_k_key UNIQUE (k)",
        # one subcommand: nothing to split
        "ALTER TABLE t ADD COLUMN b int",
    ],
    ids=["partition", "later-column", "index-forms", "single"],
)
def test_statements_that_would_run_differently_apart_are_kept_whole(sql):
    assert _split(sql) is None


SETUP = 'CREATE TABLE "User" (id bigint PRIMARY KEY, email text);'


def test_a_statement_whose_parts_gain_no_fix_is_left_as_written():
    source = """SET lock_timeout = '2s';
SET statement_timeout = '30min';
ALTER TABLE "User" ADD COLUMN "a" TEXT, ADD COLUMN "b" TEXT;
"""
    assert not fix_source(source, setup=SETUP).changed


def test_findings_on_split_parts_point_at_the_statement_the_file_has():
    source = """SET lock_timeout = '2s';
-- AlterTable
ALTER TABLE "User" ADD COLUMN "tenantId" BIGINT NOT NULL,
ADD COLUMN "nick" TEXT;
CREATE INDEX "User_email_idx" ON "User" ("email");
"""
    result = fix_source(source, setup=SETUP)
    spans = {f.code: f.span for f in result.fixed}
    assert (spans["ZD301"].line, spans["ZD301"].end_line) == (3, 4)
    assert spans["ZD102"].line == 5  # after the split statement, on its own line again
    assert result.outputs[0].original == source


def test_prisma_folder_gets_the_split_statement_and_the_contract_in_pending(tmp_path: Path):
    source = (
        '-- AlterTable\nALTER TABLE "User" ADD COLUMN "tenantId" BIGINT NOT NULL,\n'
        'ADD COLUMN "nick" TEXT;\n'
    )
    result = fix_source(
        source, "prisma/migrations/20240101000000_tenant/migration.sql", SETUP, folder=tmp_path
    )
    main, *contract = result.outputs
    assert 'ALTER TABLE "User" ADD COLUMN "tenantId" BIGINT;\n' in main.text
    assert 'ALTER TABLE "User" ADD COLUMN "nick" TEXT;\n' in main.text
    assert contract and all("pending" in o.path.parts for o in contract)
    assert [f for f in lint(main.text, main.path, schema=None) if f.code == "ZD301"] == []


def test_fixing_the_split_file_again_changes_nothing():
    source = """SET lock_timeout = '2s';
ALTER TABLE "User" ADD COLUMN "nick" TEXT,
ADD CONSTRAINT "User_nick_key" UNIQUE ("nick");
"""
    first = fix_source(source, setup=SETUP)
    assert {f.code for f in first.fixed} >= {"ZD106"}
    again = fix_source(first.outputs[0].text, setup=SETUP)
    assert not again.changed
