"""The rules that became fixable with issue 16: what each fix writes, and where it refuses
with a reason (the catalogue examples cover the plain rewrites)."""

from __future__ import annotations

from tests.fix_support import fix_source

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
