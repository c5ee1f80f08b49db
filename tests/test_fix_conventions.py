"""`zdlint fix` on real project layouts: each tool's file conventions (pop included), files
for other databases left alone, applied checksummed files never edited, new migrations that
sort where they must even in dense folders, a second run that changes nothing, and
`--write` that keeps symlinks, modes, owners and hard links and refuses read-only files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.test_fix import _git
from zdlint.cli import main
from zdlint.fix.layout import LayoutError, new_locations
from zdlint.sql.history import migration_sequence

SETUP = "CREATE TABLE orders (id bigint PRIMARY KEY, c int);\n"
# one statement that stays in the transaction, one that must leave it
MIXED = (
    "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN d int;\n"
    "CREATE INDEX o_idx ON orders (c);\n"
)
BAD = "SET lock_timeout = '2s';\nCREATE INDEX o_idx ON orders (c);\n"


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "setup").mkdir(exist_ok=True)  # a folder of its own: not a migration
    (tmp_path / "setup" / "schema.sql").write_text(SETUP)
    return tmp_path


def _fix(tmp_path: Path, *args: str) -> tuple[int, str]:
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(
            main, ["fix", "--isolated", "--schema", "setup/schema.sql", *args]
        )
    finally:
        os.chdir(old)
    return result.exit_code, result.output


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.parts[len(root.parts)] not in ("setup", ".git")
    }


# --- pop / ory popx --------------------------------------------------------------------


def test_pop_statement_outside_a_transaction_gets_an_autocommit_file_for_postgres(tmp_path):
    _project(tmp_path, {"m/0001_o.postgres.up.sql": MIXED, "m/0001_o.mysql.up.sql": "SELECT 1;"})
    code, output = _fix(tmp_path, "--write", "m")
    assert code == 0, output
    tree = _tree(tmp_path)
    assert "CONCURRENTLY" not in tree["m/0001_o.postgres.up.sql"]
    # each statement that must run outside a transaction is alone in an autocommit file
    assert "DROP INDEX CONCURRENTLY" in tree["m/0002_o_zdlint_fix.postgres.autocommit.up.sql"]
    alone = tree["m/0003_o_zdlint_fix.postgres.autocommit.up.sql"]
    assert "CREATE INDEX CONCURRENTLY o_idx ON orders (c);" in alone
    assert tree["m/0001_o.mysql.up.sql"] == "SELECT 1;"
    code, output = _fix(tmp_path, "m")  # the second run has nothing left to do
    assert (code, output.strip()) == (0, ""), output


def test_pop_transactional_step_after_an_autocommit_file_loses_the_autocommit_mark():
    from zdlint.fix.layout import Segment, segment_path

    path = Path("m/0002_o_zdlint_fix.postgres.autocommit.up.sql")
    assert segment_path(path, "pop", Segment(True)).name == "0002_o_zdlint_fix.postgres.up.sql"
    plain = Path("m/0002_o_zdlint_fix.up.sql")
    assert segment_path(plain, "pop", Segment(False)).name == "0002_o_zdlint_fix.autocommit.up.sql"


@pytest.mark.parametrize("dialect", ["mysql", "sqlite3", "cockroach"])
def test_migrations_for_other_databases_are_not_rewritten(tmp_path, dialect):
    name = f"m/0001_o.{dialect}.up.sql"
    _project(tmp_path, {name: BAD, "m/0001_o.postgres.up.sql": "SELECT 1;\n"})
    code, output = _fix(tmp_path, "--write", "m")
    assert code == 0, output
    assert _tree(tmp_path) == {name: BAD, "m/0001_o.postgres.up.sql": "SELECT 1;\n"}


def test_pop_down_migration_is_not_rewritten(tmp_path):
    _project(
        tmp_path,
        {"m/0001_o.postgres.up.sql": "SELECT 1;\n", "m/0001_o.postgres.down.sql": BAD},
    )
    assert _fix(tmp_path, "--write", "m")[0] == 0
    assert _tree(tmp_path)["m/0001_o.postgres.down.sql"] == BAD


def test_pop_migration_shared_by_every_database_is_refused_with_the_reason(tmp_path):
    _project(tmp_path, {"m/0002_o.up.sql": MIXED, "m/0001_a.mysql.up.sql": "SELECT 1;"})
    code, output = _fix(tmp_path, "--write", "m/0002_o.up.sql")
    assert code == 2
    assert "runs on every database pop targets here (mysql too)" in output
    assert _tree(tmp_path)["m/0002_o.up.sql"] == MIXED


# --- names of new migrations -------------------------------------------------------------


def test_dotted_version_name_keeps_its_dots(tmp_path):
    _project(tmp_path, {"m/0150_2.14.0_schema.up.sql": MIXED})
    assert _fix(tmp_path, "--write", "m")[0] == 0
    assert "m/0151_2.14.0_schema_zdlint_fix.up.sql" in _tree(tmp_path)


def test_flyway_new_version_sorts_after_v2_and_before_v3(tmp_path):
    (tmp_path / "V2__o.sql").write_text(MIXED)
    (tmp_path / "V3__p.sql").write_text("SELECT 1;\n")
    (new,) = new_locations(tmp_path / "V2__o.sql", "flyway", 1, "zdlint_fix")
    assert new.name == "V2_1__o_zdlint_fix.sql"
    _, files = migration_sequence(tmp_path / "V2__o.sql")
    new.write_text("SELECT 1;\n")
    _, files = migration_sequence(new)
    assert [f.name for f in files] == ["V2__o.sql", "V2_1__o_zdlint_fix.sql", "V3__p.sql"]


def test_flyway_orders_versions_by_number_part_by_part(tmp_path):
    for name in ["V10__c.sql", "V2_1__b.sql", "V2__a.sql", "V1.5__x.sql", "R__view.sql"]:
        (tmp_path / name).write_text("SELECT 1;\n")
    _, files = migration_sequence(tmp_path / "V2__a.sql")
    assert [f.name for f in files] == [
        "V1.5__x.sql",
        "V2__a.sql",
        "V2_1__b.sql",
        "V10__c.sql",
        "R__view.sql",
    ]


def test_flyway_new_version_goes_between_when_the_next_one_is_taken(tmp_path):
    for name in ["V2__o.sql", "V2_1__taken.sql"]:
        (tmp_path / name).write_text("SELECT 1;\n")
    names = [p.name for p in new_locations(tmp_path / "V2__o.sql", "flyway", 2, "zdlint_fix")]
    assert names == ["V2_0_1__o_zdlint_fix.sql", "V2_0_2__o_zdlint_fix.sql"]


def test_dense_prisma_folders_get_names_that_sort_between_neighbours(tmp_path):
    for folder in ["20240101000000_a", "20240101000001_b"]:
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "migration.sql").write_text("SELECT 1;\n")
    paths = new_locations(tmp_path / "20240101000000_a/migration.sql", "prisma", 2, "zdlint_fix")
    names = [p.parent.name for p in paths]
    assert names == ["20240101000000_a_zdlint_fix_1", "20240101000000_a_zdlint_fix_2"]
    assert sorted([*names, "20240101000000_a", "20240101000001_b"])[1:3] == names


def test_dense_diesel_folders_get_a_longer_version_that_sorts_between(tmp_path):
    for folder in ["2024-01-01-120000_a", "2024-01-01-120001_b"]:
        (tmp_path / folder).mkdir()
    (new,) = new_locations(tmp_path / "2024-01-01-120000_a/up.sql", "diesel", 1, "zdlint_fix")
    assert new.parent.name == "2024-01-01-120000-0001_a_zdlint_fix"
    # Diesel's version: the part before the first `_`, dashes removed, compared as text
    assert "20240101120000" < "202401011200000001" < "20240101120001"


@pytest.mark.parametrize("folder", ["2019-02-30-000000_a", "00000000000000_diesel_initial_setup"])
def test_diesel_folder_that_is_not_a_valid_timestamp_still_gets_a_new_folder(tmp_path, folder):
    (tmp_path / folder).mkdir()
    (tmp_path / folder / "up.sql").write_text("SELECT 1;\n")
    (new,) = new_locations(tmp_path / folder / "up.sql", "diesel", 1, "zdlint_fix")
    new.parent.mkdir()
    new.write_text("SELECT 1;\n")
    _, files = migration_sequence(tmp_path / folder / "up.sql")
    assert [f.parent.name for f in files] == [folder, new.parent.name]


def test_numbered_tool_with_no_free_version_is_refused_naming_the_neighbour(tmp_path):
    for name in ["000042_o.up.sql", "000043_p.up.sql"]:
        (tmp_path / name).write_text("SELECT 1;\n")
    with pytest.raises(LayoutError, match="000043_p.up.sql"):
        new_locations(tmp_path / "000042_o.up.sql", "golang-migrate", 1, "zdlint_fix")


def test_fixing_a_generated_migration_does_not_repeat_the_slug(tmp_path):
    (tmp_path / "000043_o_zdlint_fix.up.sql").write_text("SELECT 1;\n")
    (new,) = new_locations(
        tmp_path / "000043_o_zdlint_fix.up.sql", "golang-migrate", 1, "zdlint_fix"
    )
    assert new.name == "000044_o_zdlint_fix.up.sql"


# --- a second run changes nothing, on every tool ------------------------------------------

TOOLS = {
    "goose": ("00042_o.sql", "-- +goose Up\n" + MIXED, {}),
    "dbmate": ("20240101120000_o.sql", "-- migrate:up\n" + MIXED + "\n-- migrate:down\n", {}),
    "sql-migrate": ("00042_o.sql", "-- +migrate Up\n" + MIXED, {}),
    "sqlx": ("migrations/20240101120000_o.sql", MIXED, {}),
    "atlas": ("20240101120000_o.sql", MIXED, {"atlas.sum": "h1:x\n"}),
    "flyway": ("V7__o.sql", MIXED, {}),
    "golang-migrate": ("000042_o.up.sql", MIXED, {}),
    "prisma": (
        "migrations/20240101120000_o/migration.sql",
        MIXED,
        {"migrations/migration_lock.toml": 'provider = "postgresql"\n'},
    ),
    "diesel": ("migrations/2024-01-01-120000_o/up.sql", MIXED, {}),
    "pop": ("m/0001_o.postgres.up.sql", MIXED, {}),
    "templated": (
        "000042_o.up.sql",
        MIXED.replace("orders", "{{ schema }}.orders"),
        {".zdlint.toml": "templates = true\n"},
    ),
}


@pytest.mark.parametrize("tool", list(TOOLS))
def test_second_fix_changes_nothing(tmp_path, tool):
    name, source, beside = TOOLS[tool]
    _project(tmp_path, {name: source, **beside})
    args = ["--config", ".zdlint.toml"] if ".zdlint.toml" in beside else []
    code, output = _fix(tmp_path, *args, "--write", ".")
    assert code == 0, output
    first = _tree(tmp_path)
    assert first[name] != source, "the first run fixes the file"
    assert not any("zdlint_fix_zdlint_fix" in path for path in first)
    code, output = _fix(tmp_path, *args, ".")
    assert code == 0 and "+++ " not in output, output
    assert _tree(tmp_path) == first


# --- applied checksummed files ------------------------------------------------------------


def test_older_flyway_files_are_taken_as_applied_and_only_the_newest_is_rewritten(tmp_path):
    _project(tmp_path, {"V1__old.sql": BAD, "V2__new.sql": BAD})
    code, output = _fix(tmp_path, "--write", ".")
    assert code == 0, output
    assert ".: 1 migration(s) taken as applied and not edited: flyway checksums" in output
    code, output = _fix(tmp_path, "--write", "V1__old.sql")  # named: named in the message
    assert "V1__old.sql: flyway checksums applied migrations and only the newest" in output
    tree = _tree(tmp_path)
    assert tree["V1__old.sql"] == BAD
    assert "CONCURRENTLY" in tree["V2__new.sql"]


@pytest.mark.parametrize("tool", ["prisma", "sqlx", "atlas"])
def test_older_files_of_checksumming_tools_are_never_edited(tmp_path, tool):
    names = {
        "prisma": ("p/20240101000000_a/migration.sql", "p/20240102000000_b/migration.sql"),
        "sqlx": ("migrations/20240101000000_a.sql", "migrations/20240102000000_b.sql"),
        "atlas": ("a/20240101000000_a.sql", "a/20240102000000_b.sql"),
    }[tool]
    beside = {"a/atlas.sum": "h1:x\n"} if tool == "atlas" else {}
    _project(tmp_path, {names[0]: BAD, names[1]: BAD, **beside})
    code, output = _fix(tmp_path, "--write", ".")
    assert code == 0, output
    assert "1 migration(s) taken as applied and not edited" in output
    tree = _tree(tmp_path)
    assert tree[names[0]] == BAD
    assert "CONCURRENTLY" in "".join(t for p, t in tree.items() if p != names[0])


def test_golang_migrate_does_not_checksum_so_every_file_is_fixed(tmp_path):
    _project(tmp_path, {"000001_a.up.sql": BAD, "000010_b.up.sql": BAD})
    assert _fix(tmp_path, "--write", ".")[0] == 0
    tree = _tree(tmp_path)
    assert "CONCURRENTLY" in tree["000002_a_zdlint_fix.up.sql"] + tree["000003_a_zdlint_fix.up.sql"]


def test_with_diff_base_every_file_added_on_the_branch_is_rewritten(tmp_path):
    _project(tmp_path, {"V1__old.sql": BAD})
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "base")
    _project(tmp_path, {"V2__a.sql": BAD, "V3__b.sql": BAD})
    code, output = _fix(tmp_path, "--write", "--diff-base", "HEAD", ".")
    assert code == 0, output
    tree = _tree(tmp_path)
    assert tree["V1__old.sql"] == BAD
    assert "CONCURRENTLY" in tree["V2__a.sql"] and "CONCURRENTLY" in tree["V3__b.sql"]


# --- the file system ---------------------------------------------------------------------


def test_write_follows_a_symlink_and_rewrites_its_target(tmp_path):
    _project(tmp_path, {"shared/real.sql": BAD})
    (tmp_path / "m.sql").symlink_to("shared/real.sql")
    assert _fix(tmp_path, "--write", "m.sql")[0] == 0
    assert (tmp_path / "m.sql").is_symlink()
    assert "CONCURRENTLY" in (tmp_path / "shared/real.sql").read_text()


def test_write_keeps_mode_and_owner(tmp_path):
    _project(tmp_path, {"m.sql": BAD})
    target = tmp_path / "m.sql"
    target.chmod(0o640)
    if os.geteuid() == 0:
        os.chown(target, 65534, 65534)
    before = target.stat()
    assert _fix(tmp_path, "--write", "m.sql")[0] == 0
    after = target.stat()
    assert "CONCURRENTLY" in target.read_text()
    assert (after.st_mode, after.st_uid, after.st_gid) == (
        before.st_mode,
        before.st_uid,
        before.st_gid,
    )


def test_read_only_file_is_refused_by_name_and_the_others_are_still_fixed(tmp_path):
    _project(tmp_path, {"a.sql": BAD, "b.sql": BAD})
    (tmp_path / "a.sql").chmod(0o444)
    code, output = _fix(tmp_path, "--write", "a.sql", "b.sql")
    assert code == 2
    assert "a.sql: the file is read-only; not rewritten" in output
    assert (tmp_path / "a.sql").read_text() == BAD
    assert "CONCURRENTLY" in (tmp_path / "b.sql").read_text()


def test_write_keeps_hard_links(tmp_path):
    _project(tmp_path, {"m.sql": BAD})
    os.link(tmp_path / "m.sql", tmp_path / "copy.sql")
    inode = (tmp_path / "m.sql").stat().st_ino
    assert _fix(tmp_path, "--write", "m.sql")[0] == 0
    assert (tmp_path / "m.sql").stat().st_ino == inode
    assert (tmp_path / "copy.sql").read_text() == (tmp_path / "m.sql").read_text()
    assert "CONCURRENTLY" in (tmp_path / "copy.sql").read_text()


def test_contract_files_keep_the_tools_file_name_conventions(tmp_path):
    rename = "SET lock_timeout = '2s';\nALTER TABLE orders RENAME COLUMN c TO e;\n"
    _project(tmp_path, {"m/0150_2.14.0_schema.up.sql": rename})
    assert _fix(tmp_path, "--write", "m")[0] == 0
    pending = sorted(p for p in _tree(tmp_path) if p.startswith("m/pending/"))
    assert pending and all(p.startswith("m/pending/0150_2.14.0_schema_contract") for p in pending)
    assert all(p.endswith(".up.sql") for p in pending)


# --- a statement that must run outside a transaction is where the tool runs it so -----

ALONE = {
    "diesel": "migrations/2024-01-01-120000_o/up.sql",
    "sqlx": "migrations/20240101120000_o.sql",
    "dbmate": "20240101120000_o.sql",
    "golang-migrate": "000042_o.up.sql",
    "prisma": "migrations/20240101120000_o/migration.sql",
}


def _outside_a_transaction(tool: str, path: str, tree: dict[str, str]) -> bool:
    text = tree[path]
    if tool == "diesel":
        meta = tree.get(path.rsplit("/", 1)[0] + "/metadata.toml", "")
        return "run_in_transaction = false" in meta
    if tool == "sqlx":
        return text.startswith("-- no-transaction")
    if tool == "dbmate":
        return "-- migrate:up transaction:false" in text
    # golang-migrate never wraps a file, Prisma runs a one-statement file as it is
    return (
        text.count(";") - text.count("SET lock_timeout") - text.count("SET statement_timeout") == 1
    )


@pytest.mark.parametrize("tool", list(ALONE))
def test_every_concurrent_statement_lands_in_a_file_the_tool_runs_outside_a_transaction(
    tmp_path, tool
):
    name = ALONE[tool]
    body = "CREATE INDEX o_idx ON orders (c);\n"
    source = f"-- migrate:up\n{body}\n-- migrate:down\n" if tool == "dbmate" else body
    beside = {"migrations/migration_lock.toml": 'provider = "postgresql"\n'}
    _project(tmp_path, {name: source, **(beside if tool == "prisma" else {})})
    code, output = _fix(tmp_path, "--write", ".")
    assert code == 0, output
    tree = _tree(tmp_path)
    concurrent = [p for p, text in tree.items() if "CONCURRENTLY" in text]
    assert len(concurrent) == 2, tree  # drop a leftover of a failed build, then build
    for path in concurrent:
        assert _outside_a_transaction(tool, path, tree), (path, tree)
