"""The rules that became fixable with issue 16: what each fix writes, and where it refuses
with a reason (the catalogue examples cover the plain rewrites)."""

from __future__ import annotations

from tests.fix_support import fix_source
from zdlint.config import Settings
from zdlint.fix.plan import FixOptions

USERS = "CREATE TABLE users (id bigint PRIMARY KEY, status text, legacy text);"


def _refusals(result) -> dict[str, str]:
    return {finding.code: reason for finding, reason in result.unfixable}


# --- drops moved to the contract phase (ZD304, ZD305) ------------------------------------


def test_drop_column_that_a_later_statement_adds_again_is_refused_with_the_reason():
    # Prisma changes a column's type this way: the drop cannot wait for the contract
    source = """SET lock_timeout = '2s';
ALTER TABLE users DROP COLUMN status;
ALTER TABLE users ADD COLUMN status integer;
"""
    result = fix_source(source, setup=USERS)
    assert "later statement of this migration uses users.status" in _refusals(result)["ZD304"]
    assert all("pending" not in o.path.parts for o in result.outputs)  # nothing moved


def test_drop_of_the_primary_key_column_is_refused():
    source = "SET lock_timeout = '2s';\nALTER TABLE users DROP COLUMN id;\n"
    assert "primary key" in _refusals(fix_source(source, setup=USERS))["ZD304"]


def test_drop_table_that_a_later_statement_uses_again_is_refused():
    source = """SET lock_timeout = '2s';
DROP TABLE users;
CREATE TABLE users (id uuid PRIMARY KEY);
"""
    result = fix_source(source, setup=USERS)
    assert "uses users again" in _refusals(result)["ZD305"]


def test_a_drop_whose_object_a_later_drop_needs_gone_is_refused():
    # moved to the contract, the table would still use the type the file drops next
    setup = "CREATE TYPE mood AS ENUM ('ok');\nCREATE TABLE events (id bigint PRIMARY KEY, m mood);"
    source = "SET lock_timeout = '2s';\nDROP TABLE events;\nDROP TYPE mood;\n"
    result = fix_source(source, setup=setup)
    assert "drops mood, which events uses" in _refusals(result)["ZD305"]
    column = "SET lock_timeout = '2s';\nALTER TABLE events DROP COLUMN m;\nDROP TYPE mood;\n"
    result = fix_source(column, setup=setup)
    assert "drops mood, which events.m uses" in _refusals(result)["ZD304"]


def test_drops_of_unrelated_objects_do_not_block_the_move():
    source = """SET lock_timeout = '2s';
ALTER TABLE users DROP COLUMN legacy;
CREATE TABLE audit (id bigint PRIMARY KEY, note text);
"""
    result = fix_source(source, setup=USERS)
    main, contract = result.outputs
    assert "DROP COLUMN legacy" not in main.text and "CREATE TABLE audit" in main.text
    assert "ALTER TABLE users DROP COLUMN legacy;" in contract.text
    assert "no running version reads or writes users.legacy" in contract.text


# --- NOT NULL before writers (ZD310) ------------------------------------------------------


def test_not_null_on_a_new_column_goes_to_the_contract_and_settles_the_scan_finding_too():
    source = """SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN tenant_id bigint;
ALTER TABLE users ALTER COLUMN tenant_id SET NOT NULL;
"""
    result = fix_source(source, setup=USERS)
    assert {f.code for f in result.fixed} >= {"ZD101", "ZD310"}
    assert result.unfixable == []
    main, contract = result.outputs
    assert "SET NOT NULL" not in main.text
    assert "CHECK (tenant_id IS NOT NULL) NOT VALID" in contract.text
    assert "every running version writes users.tenant_id" in contract.text


def test_not_null_whose_column_a_later_statement_changes_again_is_refused():
    source = """SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN tenant_id bigint;
ALTER TABLE users ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE users ALTER COLUMN tenant_id DROP NOT NULL;
"""
    reason = _refusals(fix_source(source, setup=USERS))["ZD310"]
    assert "later statement of this migration changes users.tenant_id" in reason


def test_not_null_moves_past_later_statements_that_only_index_or_reference_the_column():
    source = """SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN tenant_id bigint;
ALTER TABLE users ALTER COLUMN tenant_id SET NOT NULL;
CREATE UNIQUE INDEX users_tenant_id_key ON users (id, tenant_id);
"""
    result = fix_source(source, setup=USERS)
    assert "ZD310" in {f.code for f in result.fixed}, result.unfixable


# --- transactions and timeouts (ZD403, ZD404) --------------------------------------------

PRODUCTS = "CREATE TABLE products (id bigint PRIMARY KEY, price numeric);"


def test_validate_in_a_prisma_file_moves_to_a_migration_that_runs_after_it(tmp_path):
    source = (
        'ALTER TABLE "products" ADD CONSTRAINT "p_pos" CHECK ("price" > 0) NOT VALID;\n'
        'ALTER TABLE "products" VALIDATE CONSTRAINT "p_pos";\n'
    )
    result = fix_source(
        source, "prisma/migrations/20240101000000_price/migration.sql", PRODUCTS, folder=tmp_path
    )
    main, later = result.outputs
    assert "VALIDATE" not in main.text and "NOT VALID" in main.text
    assert later.path.parent.name == "20240101000001_price_zdlint_fix"
    assert 'ALTER TABLE "products" VALIDATE CONSTRAINT "p_pos";' in later.text


def test_lock_timeout_is_lowered_to_the_fix_value_keeping_the_users_form():
    result = fix_source("SET LOCAL lock_timeout TO 60000;\n", options=FixOptions(lock_timeout="2s"))
    assert result.outputs[0].text == "SET LOCAL lock_timeout TO '2s';\n"


def test_lock_timeout_is_lowered_to_the_maximum_when_the_fix_value_is_above_it():
    result = fix_source(
        "SET lock_timeout = '10min';\n",
        settings=Settings(max_lock_timeout_ms=5000),
        options=FixOptions(lock_timeout="8s"),
    )
    assert result.outputs[0].text == "SET lock_timeout = '5s';\n"


# --- an index for each unindexed foreign key (ZD150) --------------------------------------


def test_every_unindexed_foreign_key_of_a_new_table_gets_a_plain_index_in_its_transaction():
    source = """CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id bigint REFERENCES customers (id),
    seller_id bigint REFERENCES sellers (id)
);
"""
    setup = (
        "CREATE TABLE customers (id bigint PRIMARY KEY);"
        " CREATE TABLE sellers (id bigint PRIMARY KEY);"
    )
    result = fix_source(source, setup=setup, settings=Settings(extend_select=("ZD150",)))
    assert [f.code for f in result.fixed if f.code == "ZD150"] == ["ZD150", "ZD150"]
    assert result.unfixable == []
    text = result.outputs[0].text
    assert "CREATE INDEX orders_customer_id_idx ON orders (customer_id);" in text
    assert "CREATE INDEX orders_seller_id_idx ON orders (seller_id);" in text
    assert "CONCURRENTLY" not in text


# --- serial and identity columns (ZD201) ---------------------------------------------------


def test_identity_column_is_refused_with_the_way_to_add_one():
    source = (
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE users ADD COLUMN n int GENERATED ALWAYS AS IDENTITY;\n"
    )
    reason = _refusals(fix_source(source, setup=USERS))["ZD201"]
    assert "identity" in reason and "START WITH" in reason


def test_serial_with_a_key_on_it_is_refused():
    source = "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN n serial UNIQUE;\n"
    assert "constraints" in _refusals(fix_source(source, setup=USERS))["ZD201"]


def test_no_commit_is_put_where_the_transaction_has_dropped_what_it_rebuilds():
    # a derived table rebuilt under its name: committing before the rebuild would leave
    # the running version without the table
    setup = USERS + " CREATE TABLE user_counts AS SELECT status, count(*) FROM users GROUP BY 1;"
    source = """SET lock_timeout = '2s';
SET statement_timeout = '30min';
BEGIN;
DROP TABLE user_counts;
CREATE TABLE user_counts AS SELECT status, count(*) AS n FROM users GROUP BY 1;
COMMIT;
"""
    result = fix_source(source, setup=setup)
    reason = _refusals(result)["ZD409"]
    assert "`DROP TABLE user_counts`" in reason and "without it" in reason
    assert all("COMMIT;\nCREATE TABLE user_counts" not in o.text for o in result.outputs)
