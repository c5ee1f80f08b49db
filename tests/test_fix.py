"""`zdlint fix`: the rewrites lint clean, are idempotent, follow the tool's layout, and
are written atomically (or not at all)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.fix_support import example_settings, fix_example, fix_source, fixed_text
from tests.support import lint
from zdlint.catalogue import load_catalogue
from zdlint.cli import main
from zdlint.fix.apply import ChangedSinceRead, write
from zdlint.fix.fixer import FileFix, FixRefused, Output

CATALOGUE = load_catalogue()
FIXABLE = [
    pytest.param(rule, example, id=f"{rule.code}-bad{i}")
    for rule in CATALOGUE
    if rule.fixable
    for i, example in enumerate(rule.bad_examples)
]
WITH_FIXED = [
    pytest.param(rule, example, id=f"{rule.code}-bad{i}")
    for rule in CATALOGUE
    for i, example in enumerate(rule.bad_examples)
    if example.fixed is not None
]


@pytest.mark.parametrize(("rule", "example"), WITH_FIXED)
def test_fix_output_matches_the_catalogue_expectation(rule, example):
    assert fixed_text(example) == example.fixed


def test_every_fixable_rule_has_an_expected_fix_in_the_catalogue():
    missing = [r.code for r in CATALOGUE if r.fixable and not any(e.fixed for e in r.bad_examples)]
    # Rules fixed by a prologue or by a rule added later may lack one; the core rewrites must not.
    core = {"ZD101", "ZD102", "ZD103", "ZD104", "ZD105", "ZD106", "ZD201", "ZD202", "ZD301"}
    assert not core & set(missing), missing


def _enabling(rule, example) -> dict:
    """Settings that check the rule even when it is off by default."""
    if rule.enabled:
        return {}
    return {"extend_select": (*example.options.get("extend_select", ()), rule.code)}


@pytest.mark.parametrize(("rule", "example"), FIXABLE)
def test_fixed_files_lint_clean_of_the_rules_they_fixed(rule, example):
    settings = _enabling(rule, example)
    result = fix_example(example, **settings)
    assert rule.code in {f.code for f in result.fixed}, result.unfixable
    fixed_codes = {f.code for f in result.fixed}
    if example.pg_version is not None:
        settings["pg_version"] = example.pg_version
    for output in result.outputs:
        if not output.path.name.endswith(".sql"):
            continue
        left = [f for f in lint(output.text, output.path, **settings) if f.code in fixed_codes]
        assert left == [], (output.path, [f"{f.code} {f.message}" for f in left], output.text)


@pytest.mark.parametrize(("rule", "example"), FIXABLE)
def test_fixing_twice_changes_nothing(rule, example):
    settings = _enabling(rule, example)
    first = fix_example(example, **settings)
    for output in first.outputs:
        if not output.path.name.endswith(".sql"):
            continue
        again = fix_source(
            output.text, str(output.path), example.setup, example_settings(example, **settings)
        )
        assert not again.changed, (output.path, [o.text for o in again.outputs])


def test_statement_inside_an_explicit_transaction_moves_out_of_it():
    result = fix_source(
        "SET lock_timeout = '2s';\nBEGIN;\nALTER TABLE t ADD COLUMN a int;\n"
        "CREATE INDEX t_a_idx ON t (a);\nCOMMIT;\n",
        setup="CREATE TABLE t (id bigint PRIMARY KEY);",
    )
    assert result.outputs[0].text == (
        "SET lock_timeout = '2s';\nBEGIN;\nALTER TABLE t ADD COLUMN a int;\nCOMMIT;\n"
        "DROP INDEX CONCURRENTLY IF EXISTS t_a_idx;\n"
        "CREATE INDEX CONCURRENTLY t_a_idx ON t (a);\nBEGIN;\nCOMMIT;\n"
    )


def test_comments_and_other_statements_are_kept_as_written():
    source = (
        "-- orders by customer\nSET lock_timeout = '2s';\n\n/* hot path */\n"
        "create index orders_c_idx on orders (customer_id); -- keep me\n"
        "ALTER TABLE orders ADD COLUMN note text;\n"
    )
    text = (
        fix_source(source, setup="CREATE TABLE orders (id bigint, customer_id bigint);")
        .outputs[0]
        .text
    )
    assert "/* hot path */\n" in text and "-- keep me" in text
    assert "create index CONCURRENTLY orders_c_idx on orders (customer_id);" in text
    assert text.endswith("ALTER TABLE orders ADD COLUMN note text;\n")


def test_goose_file_becomes_no_transaction_when_only_concurrent_work_is_left(tmp_path):
    source = (
        "-- +goose Up\nSET lock_timeout = '2s';\nCREATE INDEX o_idx ON orders (c);\n\n"
        "-- +goose Down\nDROP INDEX o_idx;\n"
    )
    result = fix_source(source, "00042_o_idx.sql", "CREATE TABLE orders (c int);", folder=tmp_path)
    (main,) = result.outputs
    assert main.text.startswith("-- +goose NO TRANSACTION\n-- +goose Up\n")
    assert "CREATE INDEX CONCURRENTLY o_idx ON orders (c);" in main.text
    assert main.text.endswith("-- +goose Down\nDROP INDEX o_idx;\n")


def test_golang_migrate_gets_one_new_file_per_statement_outside_a_transaction(tmp_path):
    source = (
        "SET lock_timeout = '2s';\nCREATE INDEX o_idx ON orders (c);\n"
        "ALTER TABLE orders ADD COLUMN d int;\n"
    )
    result = fix_source(
        source, "000042_o_idx.up.sql", "CREATE TABLE orders (c int);", folder=tmp_path
    )
    names = [o.path.name for o in result.outputs]
    assert names == [
        "000042_o_idx.up.sql",
        "000043_o_idx_zdlint_fix.up.sql",
        "000044_o_idx_zdlint_fix.up.sql",
        "000045_o_idx_zdlint_fix.up.sql",
    ]
    concurrent = result.outputs[2].text
    assert "CREATE INDEX CONCURRENTLY o_idx ON orders (c);" in concurrent
    assert "SET lock_timeout" not in concurrent  # one statement alone: not in a batch
    assert "ignore[ZD401]" in concurrent
    assert "ALTER TABLE orders ADD COLUMN d int;" in result.outputs[3].text


def test_new_migration_that_would_clash_with_a_later_version_is_refused(tmp_path):
    (tmp_path / "000043_next.up.sql").write_text("SELECT 1;\n")
    source = "SET lock_timeout = '2s';\nCREATE INDEX o_idx ON orders (c);\n"
    with pytest.raises(FixRefused, match="000043"):
        fix_source(source, "000042_o_idx.up.sql", "CREATE TABLE orders (c int);", folder=tmp_path)


def test_flyway_concurrent_step_gets_a_conf_sidecar(tmp_path):
    source = (
        "SET lock_timeout = '2s';\nALTER TABLE o ADD COLUMN d int;\nCREATE INDEX o_idx ON o (c);\n"
    )
    result = fix_source(source, "V7__o.sql", "CREATE TABLE o (c int);", folder=tmp_path)
    by_name = {o.path.name: o.text for o in result.outputs}
    assert by_name["V7_1__o_zdlint_fix.sql.conf"] == "executeInTransaction=false\n"
    assert "CREATE INDEX CONCURRENTLY" in by_name["V7_1__o_zdlint_fix.sql"]
    assert "CONCURRENTLY" not in by_name["V7__o.sql"]


def test_contract_steps_go_to_the_pending_folder_with_a_header():
    result = fix_source(
        "SET lock_timeout = '2s';\nALTER TABLE users RENAME COLUMN fullname TO full_name;\n",
        setup="CREATE TABLE users (id bigint PRIMARY KEY, fullname text);",
    )
    contract = next(o for o in result.outputs if o.path.parent.name == "pending")
    assert "no running version of the application uses users.fullname" in contract.text
    assert "DROP COLUMN fullname" in contract.text
    assert "DROP COLUMN" not in result.outputs[0].text


def test_unknown_column_type_is_reported_not_guessed():
    result = fix_source("SET lock_timeout = '2s';\nALTER TABLE users RENAME COLUMN a TO b;\n")
    assert not result.changed
    assert "--schema" in result.unfixable[0][1]


# --- the command line ---------------------------------------------------------------------

BAD = "SET lock_timeout = '2s';\nCREATE INDEX o_idx ON orders (c);\n"


def test_fix_prints_a_diff_writes_nothing_and_exits_1(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("m.sql").write_text(BAD)
    result = CliRunner().invoke(main, ["fix", "--isolated", "m.sql"])
    assert result.exit_code == 1
    assert "+CREATE INDEX CONCURRENTLY o_idx ON orders (c);" in result.output
    assert Path("m.sql").read_text() == BAD


def test_fix_exits_0_when_there_is_nothing_to_fix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("m.sql").write_text("SELECT 1;\n")
    result = CliRunner().invoke(main, ["fix", "--isolated", "m.sql"])
    assert (result.exit_code, result.output) == (0, "")


def test_fix_stdout_prints_the_fixed_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("m.sql").write_text(BAD)
    result = CliRunner().invoke(main, ["fix", "--isolated", "--stdout", "m.sql"])
    assert result.exit_code == 0
    assert result.output.endswith("CREATE INDEX CONCURRENTLY o_idx ON orders (c);\n")
    assert Path("m.sql").read_text() == BAD


def test_fix_write_replaces_the_file_and_keeps_its_mode(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("m.sql").write_text(BAD)
    os.chmod("m.sql", 0o640)
    result = CliRunner().invoke(main, ["fix", "--isolated", "--write", "m.sql"])
    assert result.exit_code == 0, result.output
    assert "CREATE INDEX CONCURRENTLY" in Path("m.sql").read_text()
    assert stat.S_IMODE(os.stat("m.sql").st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["m.sql"]  # no temporary file left
    again = CliRunner().invoke(main, ["fix", "--isolated", "m.sql"])
    assert (again.exit_code, again.output) == (0, "")


def test_fix_refuses_an_unparseable_file_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = BAD + "ALTER TABLE orders ADD COLUMN;\n"
    Path("m.sql").write_text(source)
    result = CliRunner().invoke(main, ["fix", "--isolated", "--write", "m.sql"])
    assert result.exit_code == 2
    assert "m.sql:3:" in result.output and "syntax error" in result.output
    assert Path("m.sql").read_text() == source


def test_write_refuses_a_file_that_changed_since_it_was_read(tmp_path):
    path = tmp_path / "m.sql"
    path.write_text("changed meanwhile\n")
    fix = FileFix(
        "m.sql", [Output(path, "fixed\n", BAD), Output(tmp_path / "new.sql", "x\n", None)]
    )
    with pytest.raises(ChangedSinceRead, match="changed since zdlint read it"):
        write(fix)
    assert path.read_text() == "changed meanwhile\n"
    assert not (tmp_path / "new.sql").exists()


def test_batch_size_and_backfill_expression_come_from_the_command_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("m.sql").write_text(
        "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN t bigint NOT NULL;\n"
    )
    Path("schema.sql").write_text("CREATE TABLE users (id bigint PRIMARY KEY);\n")
    result = CliRunner().invoke(
        main,
        [
            "fix",
            "--isolated",
            "--stdout",
            "--schema",
            "schema.sql",
            "--batch-size",
            "50",
            "--backfill-expr",
            "0",
            "m.sql",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "LIMIT 50" in result.output and "SET t = 0" in result.output
