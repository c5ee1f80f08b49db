"""`zdlint fix`: the rewrites lint clean, are idempotent, follow the tool's layout, and
are written atomically (or not at all)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.fix_support import example_settings, fix_example, fix_source, fixed_text
from tests.support import codes, lint
from zdlint.catalogue import load_catalogue
from zdlint.cli import main
from zdlint.config import Settings
from zdlint.fix.apply import ChangedSinceRead, write
from zdlint.fix.fixer import FileFix, FixRefused, Output
from zdlint.lint import lint_paths

CATALOGUE = load_catalogue()
FIXABLE = [
    pytest.param(rule, example, id=f"{rule.code}-bad{i}")
    for rule in CATALOGUE
    if rule.fixable
    for i, example in enumerate(rule.bad_examples)
    if example.unfixable is None
]
REFUSED = [
    pytest.param(rule, example, id=f"{rule.code}-bad{i}")
    for rule in CATALOGUE
    for i, example in enumerate(rule.bad_examples)
    if example.unfixable is not None
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


@pytest.mark.parametrize(("rule", "example"), REFUSED)
def test_bad_examples_the_fix_refuses_say_why_and_change_nothing(rule, example):
    assert rule.fixable and example.fixed is None
    result = fix_example(example, **_enabling(rule, example))
    reasons = [why for f, why in result.unfixable if f.code == rule.code]
    assert any(example.unfixable in why for why in reasons), result.unfixable
    assert rule.code not in {f.code for f in result.fixed}


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


def test_statement_inside_an_explicit_transaction_moves_out_of_it_leaving_no_empty_one():
    result = fix_source(
        "SET lock_timeout = '2s';\nBEGIN;\nALTER TABLE t ADD COLUMN a int;\n"
        "CREATE INDEX t_a_idx ON t (a);\nCOMMIT;\n",
        setup="CREATE TABLE t (id bigint PRIMARY KEY);",
    )
    assert result.outputs[0].text == (
        "SET lock_timeout = '2s';\nBEGIN;\nALTER TABLE t ADD COLUMN a int;\nCOMMIT;\n"
        "DROP INDEX CONCURRENTLY IF EXISTS t_a_idx;\n"
        "CREATE INDEX CONCURRENTLY t_a_idx ON t (a);\n"
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
    # its SHARE UPDATE EXCLUSIVE request holds up no reads or writes: no timeout needed
    assert "ignore[ZD401]" not in concurrent
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


# --- layouts of the migration tools, written to disk and linted by the real linter ------

ORDERS = "CREATE TABLE orders (id bigint PRIMARY KEY, c int);"
MIXED = (
    "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN d int;\n"
    "CREATE INDEX o_idx ON orders (c);\n"
)


def _fix_on_disk(
    tmp_path: Path,
    name: str,
    source: str,
    beside: dict[str, str] | None = None,
    flagged: str = "ZD102",
    setup: str = ORDERS,
    **settings,
):
    """Write the migration (and files beside it) under tmp_path/db, fix it with --write,
    and return {path relative to db: text} of every file there afterwards."""
    root = tmp_path / "db"
    for rel, text in {**(beside or {}), name: source}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (tmp_path / "schema.sql").write_text(setup + "\n")
    assert flagged in _lint_folder(tmp_path, **settings).get(name, []), "the original is flagged"
    write(fix_source(source, name, setup, Settings(**settings), folder=root))
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _lint_folder(tmp_path: Path, **settings) -> dict[str, list[str]]:
    """The real linter on the whole folder: {file relative to db: finding codes}."""
    root = tmp_path / "db"
    run = lint_paths([str(root)], Settings(schema=tmp_path / "schema.sql", **settings), CATALOGUE)
    assert run.errors == []
    return {
        Path(r.path).relative_to(root).as_posix(): [f.code for f in r.findings]
        for r in run.reports
        if r.findings
    }


def test_dbmate_statement_outside_a_transaction_gets_a_transaction_false_file(tmp_path):
    source = "-- migrate:up\n" + MIXED + "\n-- migrate:down\nDROP INDEX o_idx;\n"
    files = _fix_on_disk(tmp_path, "20240101120000_o.sql", source)
    assert list(files) == [
        "20240101120000_o.sql",
        "20240101120001_o_zdlint_fix.sql",
        "20240101120002_o_zdlint_fix.sql",
    ]
    assert "CREATE INDEX" not in files["20240101120000_o.sql"]
    assert files["20240101120000_o.sql"].endswith("-- migrate:down\nDROP INDEX o_idx;\n")
    create = files["20240101120002_o_zdlint_fix.sql"]
    assert "-- migrate:up transaction:false\n" in create
    assert "CREATE INDEX CONCURRENTLY o_idx ON orders (c);\n\n-- migrate:down\n" in create
    assert _lint_folder(tmp_path) == {}


def test_sqlx_statement_outside_a_transaction_gets_a_no_transaction_file(tmp_path):
    files = _fix_on_disk(tmp_path, "migrations/20240101120000_o.sql", MIXED)
    create = files["migrations/20240101120002_o_zdlint_fix.sql"]
    assert create.startswith("-- no-transaction\n")  # sqlx reads it on the first line only
    assert "CREATE INDEX CONCURRENTLY o_idx ON orders (c);" in create
    assert "CONCURRENTLY" not in files["migrations/20240101120000_o.sql"]
    assert _lint_folder(tmp_path) == {}


def test_atlas_file_left_with_concurrent_work_only_switches_to_txmode_none(tmp_path):
    source = "SET lock_timeout = '2s';\nCREATE INDEX o_idx ON orders (c);\n"
    files = _fix_on_disk(tmp_path, "20240101120000_o.sql", source, {"atlas.sum": "h1:x=\n"})
    assert list(files) == ["20240101120000_o.sql", "atlas.sum"]
    assert files["20240101120000_o.sql"].startswith("-- atlas:txmode none\n\n")
    assert _lint_folder(tmp_path) == {}


def test_atlas_mixed_file_gets_a_txmode_none_file_and_a_note_to_rehash(tmp_path):
    source = "-- atlas:txmode file\n" + MIXED
    files = _fix_on_disk(tmp_path, "20240101120000_o.sql", source)
    assert files["20240101120001_o_zdlint_fix.sql"].startswith("-- atlas:txmode none\n")
    assert "CONCURRENTLY" not in files["20240101120000_o.sql"]
    assert _lint_folder(tmp_path) == {}
    result = fix_source(source, "20240101120000_o.sql", ORDERS, folder=tmp_path / "again")
    assert any("atlas migrate hash" in note for note in result.notes)


def test_prisma_statement_outside_a_transaction_gets_a_folder_that_sorts_after(tmp_path):
    beside = {"migrations/migration_lock.toml": 'provider = "postgresql"\n'}
    files = _fix_on_disk(tmp_path, "migrations/20240101235959_o/migration.sql", MIXED, beside)
    folders = sorted({name.split("/")[1] for name in files if name.count("/") == 2})
    assert folders == [
        "20240101235959_o",
        "20240102000000_o_zdlint_fix",
        "20240102000001_o_zdlint_fix",
    ]
    create = files["migrations/20240102000001_o_zdlint_fix/migration.sql"]
    assert "step 3 of 20240101235959_o" in create
    assert "CREATE INDEX CONCURRENTLY o_idx ON orders (c);" in create
    # Prisma sends the file as one query: a lone statement runs outside a transaction
    assert create.count(";") == 1
    assert _lint_folder(tmp_path) == {}


def test_diesel_statement_outside_a_transaction_gets_a_folder_with_metadata(tmp_path):
    beside = {"migrations/2024-01-01-120000_o/down.sql": "DROP INDEX o_idx;\n"}
    files = _fix_on_disk(tmp_path, "migrations/2024-01-01-120000_o/up.sql", MIXED, beside)
    new = "migrations/2024-01-01-120002_o_zdlint_fix"
    assert files[f"{new}/metadata.toml"] == "run_in_transaction = false\n"
    assert "CREATE INDEX CONCURRENTLY o_idx ON orders (c);" in files[f"{new}/up.sql"]
    assert f"{new}/down.sql" in files
    assert "CONCURRENTLY" not in files["migrations/2024-01-01-120000_o/up.sql"]
    assert _lint_folder(tmp_path) == {}


def test_lone_statement_of_a_golang_migrate_or_prisma_file_runs_outside_a_transaction(tmp_path):
    lone = "CREATE INDEX CONCURRENTLY o_idx ON orders (c);\n"
    assert "ZD402" not in codes(lone, tmp_path / "000042_o.up.sql")
    assert "ZD402" in codes("SELECT 1;\n" + lone, tmp_path / "000042_o.up.sql")


# --- transactions split (ZD405, ZD407, ZD408) ------------------------------------------

USERS = "CREATE TABLE users (id bigint PRIMARY KEY, fullname text);"


def test_backfill_moves_out_of_a_goose_files_transaction_into_batches(tmp_path):
    source = (
        "-- +goose Up\nSET lock_timeout = '2s';\nSET statement_timeout = '30min';\n"
        "ALTER TABLE users ADD COLUMN full_name text;\nUPDATE users SET full_name = fullname;\n"
    )
    files = _fix_on_disk(tmp_path, "00042_name.sql", source, flagged="ZD407", setup=USERS)
    main = files["00042_name.sql"]
    assert "ALTER TABLE users ADD COLUMN full_name text;" in main
    assert "CREATE PROCEDURE" in main and "CALL" not in main
    call = files["00043_name_zdlint_fix.sql"]
    assert "-- +goose NO TRANSACTION\n" in call and "CALL zdlint_batch_update_users()" in call
    assert _lint_folder(tmp_path) == {}


def test_backfill_in_a_golang_migrate_file_loops_in_a_lone_call_in_its_own_file(tmp_path):
    """golang-migrate sends a file as one query: a lone CALL runs outside any transaction,
    so the procedure commits each batch and loops until done, before the next file."""
    source = (
        "SET lock_timeout = '2s';\nSET statement_timeout = '30min';\n"
        "ALTER TABLE users ADD COLUMN full_name text;\nUPDATE users SET full_name = fullname;\n"
    )
    files = _fix_on_disk(tmp_path, "000042_name.up.sql", source, flagged="ZD407", setup=USERS)
    assert "CREATE PROCEDURE zdlint_batch_update_users()" in files["000042_name.up.sql"]
    call = files["000043_name_zdlint_fix.up.sql"]
    assert call.count(";") == 1 and "CALL zdlint_batch_update_users();" in call
    assert "DROP PROCEDURE" in files["000044_name_zdlint_fix.up.sql"]
    assert not any("driver loop" in text for text in files.values())
    assert "ZD407" not in str(_lint_folder(tmp_path))


def test_second_table_of_a_golang_migrate_file_goes_to_a_new_file(tmp_path):
    source = (
        "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN seen timestamptz;\n"
        "ALTER TABLE orders ADD COLUMN shipped timestamptz;\n"
    )
    setup = USERS + "\n" + ORDERS
    files = _fix_on_disk(tmp_path, "000042_two.up.sql", source, flagged="ZD408", setup=setup)
    assert "orders" not in files["000042_two.up.sql"]
    assert files["000043_two_zdlint_fix.up.sql"].endswith(
        "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN shipped timestamptz;\n"
    )
    assert _lint_folder(tmp_path) == {}


def test_statement_locking_several_tables_itself_is_reported_not_split():
    result = fix_source(
        "SET lock_timeout = '2s';\nBEGIN;\nALTER TABLE users ADD COLUMN a int;\n"
        "TRUNCATE orders, users;\nCOMMIT;\n",
        setup=USERS + "\n" + ORDERS,
    )
    reasons = [reason for finding, reason in result.unfixable if finding.code == "ZD408"]
    assert reasons and "split it into one statement each" in reasons[0]


def test_enum_value_before_12_moves_to_a_goose_no_transaction_file(tmp_path):
    source = (
        "-- +goose Up\nSET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN d int;\n"
        "ALTER TYPE status ADD VALUE 'refunded';\n"
    )
    setup = ORDERS + "\nCREATE TYPE status AS ENUM ('new');"
    files = _fix_on_disk(
        tmp_path, "00042_s.sql", source, flagged="ZD405", setup=setup, pg_version=11
    )
    assert "ADD VALUE" not in files["00042_s.sql"]
    assert "-- +goose NO TRANSACTION\n" in files["00043_s_zdlint_fix.sql"]
    assert _lint_folder(tmp_path, pg_version=11) == {}


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


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_diff_base_leaves_flyway_files_applied_at_the_base_and_fixes_new_ones(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    _git(tmp_path, "init", "-q")
    Path("V1__old.sql").write_text(BAD)
    _git(tmp_path, "add", "V1__old.sql")
    _git(tmp_path, "commit", "-q", "-m", "applied")
    _git(tmp_path, "tag", "base")
    edited = BAD + "-- edited after the base\n"
    Path("V1__old.sql").write_text(edited)  # edited since: still applied and checksummed
    Path("V2__new.sql").write_text(BAD)
    result = CliRunner().invoke(
        main, ["fix", "--isolated", "--write", "--diff-base", "base", "V1__old.sql", "V2__new.sql"]
    )
    assert result.exit_code == 0, result.output
    assert "V1__old.sql: flyway has already applied and checksummed it" in result.output
    assert Path("V1__old.sql").read_text() == edited
    assert not Path("V1_1__old_zdlint_fix.sql").exists()
    assert "CREATE INDEX CONCURRENTLY o_idx ON orders (c);" in Path("V2__new.sql").read_text()
    assert Path("V2__new.sql.conf").read_text() == "executeInTransaction=false\n"
