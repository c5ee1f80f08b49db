"""The schema model from history: earlier migrations, a pg_dump file, --diff-base."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pglast.enums import ObjectType

from tests.support import codes
from zdlint.catalogue import load_catalogue
from zdlint.config import Settings
from zdlint.lint import lint_paths
from zdlint.sql.parse import parse_fast
from zdlint.sql.schema import ColumnType, SchemaModel
from zdlint.sql.type_changes import rewrites

T = "SET lock_timeout = '3s';\n"


def model_of(sql: str) -> SchemaModel:
    model = SchemaModel()
    for raw in parse_fast(sql):
        model.apply(raw.stmt)
    return model


def test_replay_knows_columns_types_constraints_indexes_partitions_and_enums():
    model = model_of(
        "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(10) NOT NULL, n numeric(10,2));"
        "CREATE TABLE events (id int, at timestamptz) PARTITION BY RANGE (at);"
        "CREATE INDEX users_n ON users (n);"
        "CREATE TYPE mood AS ENUM ('ok'); ALTER TYPE mood ADD VALUE 'sad';"
        "ALTER TABLE users RENAME COLUMN email TO mail;"
    )
    assert model.column("users", "mail").type == ColumnType("varchar", (10,))
    assert model.column("users", "mail").not_null
    assert model.column("users", "id").not_null  # primary key
    assert model.is_partitioned("events") is True and model.is_partitioned("users") is False
    assert model.is_partitioned("nope") is None
    assert model.has_index_leading_with("users", ("id",))  # users_pkey
    assert model.has_index_leading_with("users", ("n",))
    assert model.enums["mood"] == ["ok", "sad"]
    assert "users_pkey" in model.indexes


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (("varchar", (10,)), ("varchar", (20,)), False),
        (("varchar", (10,)), ("varchar", (9,)), True),
        (("varchar", (10,)), ("text", ()), False),
        (("text", ()), ("varchar", ()), False),
        (("text", ()), ("varchar", (50,)), True),
        (("numeric", (10, 2)), ("numeric", (12, 2)), False),
        (("numeric", (10, 2)), ("numeric", (12, 3)), True),
        (("int4", ()), ("int8", ()), True),
        (("timestamp", ()), ("timestamptz", ()), False),
        (("cidr", ()), ("inet", ()), False),
        (("int4", ()), ("int4", ()), False),
    ],
)
def test_type_changes_that_rewrite(old, new, expected):
    assert rewrites(ColumnType(*old), ColumnType(*new), relabels_timestamps=True) is expected


def test_timestamp_to_timestamptz_rewrites_unless_the_timezone_is_utc():
    assert rewrites(ColumnType("timestamp"), ColumnType("timestamptz"), relabels_timestamps=False)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_alter_type_is_judged_against_the_type_from_an_earlier_migration(tmp_path):
    write(tmp_path, "0001_init.sql", "CREATE TABLE users (id int PRIMARY KEY, name varchar(10));")
    narrow = write(
        tmp_path, "0002_narrow.sql", T + "ALTER TABLE users ALTER COLUMN name TYPE varchar(5);"
    )
    widen = write(
        tmp_path, "0003_widen.sql", T + "ALTER TABLE users ALTER COLUMN name TYPE varchar(50);"
    )
    run = lint_paths([str(tmp_path)], Settings(), load_catalogue())
    by_file = {Path(r.path).name: [f.code for f in r.findings] for r in run.reports}
    assert by_file["0002_narrow.sql"] == ["ZD202"]
    assert by_file["0003_widen.sql"] == []
    # checking one file alone replays the files before it
    alone = lint_paths([str(narrow)], Settings(), load_catalogue())
    (finding,) = alone.reports[0].findings
    assert "from varchar(5)" not in finding.message and "from varchar(10)" in finding.message
    assert [
        f.code for f in lint_paths([str(widen)], Settings(), load_catalogue()).reports[0].findings
    ] == []


def test_without_history_the_target_type_heuristic_applies(tmp_path):
    write(tmp_path, "0001_init.sql", "CREATE TABLE users (id int PRIMARY KEY, name varchar(10));")
    narrow = write(tmp_path, "0002.sql", T + "ALTER TABLE users ALTER COLUMN name TYPE varchar(5);")
    run = lint_paths([str(narrow)], Settings(history=False), load_catalogue())
    assert run.reports[0].findings == ()


def test_a_validated_check_from_an_earlier_migration_quiets_set_not_null(tmp_path):
    write(
        tmp_path,
        "0001.sql",
        T + "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL) NOT VALID;",
    )
    write(tmp_path, "0002.sql", T + "ALTER TABLE users VALIDATE CONSTRAINT c;")
    target = write(tmp_path, "0003.sql", T + "ALTER TABLE users ALTER COLUMN email SET NOT NULL;")
    run = lint_paths([str(target)], Settings(), load_catalogue())
    assert run.reports[0].findings == ()
    assert codes(target.read_text()) == ["ZD101"]  # the same file with no history


def test_prisma_layout_replays_sibling_folders(tmp_path):
    write(tmp_path, "20240101_init/migration.sql", "CREATE TABLE a (id int, n varchar(10));")
    target = write(
        tmp_path,
        "20240201_widen/migration.sql",
        T + "ALTER TABLE a ALTER COLUMN n TYPE varchar(20);",
    )
    run = lint_paths([str(target)], Settings(), load_catalogue())
    assert run.reports[0].findings == ()


def test_a_schema_dump_seeds_the_model(tmp_path):
    dump = write(
        tmp_path / "db",
        "schema.sql",
        "\\restrict abc\nSET statement_timeout = 0;\n"
        "CREATE TABLE public.orders (id bigint NOT NULL, customer_id bigint, note varchar(10));\n"
        "ALTER TABLE ONLY public.orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id);\n",
    )
    target = write(
        tmp_path / "m", "1.sql", T + "ALTER TABLE orders ALTER COLUMN note TYPE varchar(5);\n"
    )
    run = lint_paths([str(target)], Settings(schema=dump), load_catalogue())
    (finding,) = run.reports[0].findings
    assert finding.code == "ZD202" and "from varchar(10)" in finding.message


def test_a_missing_schema_file_is_a_clear_error(tmp_path):
    run = lint_paths([str(tmp_path)], Settings(schema=tmp_path / "nope.sql"), load_catalogue())
    assert run.errors and "cannot read the schema file" in run.errors[0]


def test_foreign_key_without_index_is_advisory_and_sees_indexes_later_in_the_file():
    # a lock_timeout, since the new key locks the existing table c (ZD401)
    fk = "SET lock_timeout = '3s';\nCREATE TABLE o (id int, c int REFERENCES c (id));\n"
    assert codes(fk) == []  # off by default
    assert codes(fk, extend_select=("ZD150",)) == ["ZD150"]
    assert codes(fk + "CREATE INDEX o_c ON o (c);\n", extend_select=("ZD150",)) == []


def test_diff_base_reports_only_changed_files_but_replays_the_rest(tmp_path):
    repo = tmp_path
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", str(repo)], check=True)
    write(repo, "m/0001.sql", "CREATE TABLE u (id int, n varchar(10));\nUPDATE u SET n = 'x';\n")
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=repo, check=True)
    write(
        repo,
        "m/0002.sql",
        T + "ALTER TABLE u ALTER COLUMN n TYPE varchar(20);\nUPDATE u SET n = 'y';\n",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from zdlint.cli import run; run()",
            "check",
            "-f",
            "concise",
            "--diff-base",
            "HEAD",
            "m",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert "m/0002.sql:3:1: ZD501" in result.stdout
    assert "0001.sql" not in result.stdout
    assert "ZD202" not in result.stdout  # the history (varchar(10)) was replayed
    bad = subprocess.run(
        [
            sys.executable,
            "-c",
            "from zdlint.cli import run; run()",
            "check",
            "--diff-base",
            "no-such-ref",
            "m",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "--diff-base no-such-ref: no such revision" in bad.stderr


def test_history_resolves_like_path_resolve_through_linked_folders_and_files(tmp_path, monkeypatch):
    from zdlint.sql.history import History

    real = tmp_path / "real"
    real.mkdir()
    (real / "1.sql").write_text("SELECT 1;")
    (tmp_path / "linked").symlink_to(real)
    (tmp_path / "alias.sql").symlink_to(real / "1.sql")
    monkeypatch.chdir(tmp_path)
    history = History()
    for given in ["linked/1.sql", "linked/../real/1.sql", "alias.sql", "real/2.sql", "."]:
        assert history.resolve(Path(given)) == Path(given).resolve(), given


def test_a_sequence_whose_table_the_transaction_holds_is_dropped_without_a_wait(tmp_path):
    # serial, nextval() defaults and OWNED BY tie a sequence to one table: only
    # that table's writers use it, and they wait for the table's lock first.
    write(
        tmp_path,
        "m/001.sql",
        "CREATE TABLE w (id serial PRIMARY KEY, k int);\n"
        "CREATE TABLE v (id int NOT NULL DEFAULT nextval('v_seq'::regclass));\n"
        "CREATE SEQUENCE x_seq OWNED BY w.k;\n",
    )
    write(
        tmp_path,
        "m/002.sql",
        "BEGIN;\nSET LOCAL lock_timeout = '2s';\n"
        "ALTER TABLE w ALTER COLUMN id DROP DEFAULT, ALTER COLUMN id SET DATA TYPE bigint;\n"
        "SET LOCAL lock_timeout = 0;\n"
        "DROP SEQUENCE w_id_seq;\nDROP SEQUENCE x_seq;\nSELECT 1;\n"
        "DROP SEQUENCE v_seq;\nCOMMIT;\n",
    )
    run = lint_paths([str(tmp_path / "m")], Settings(), load_catalogue())
    waits = [
        (f.span.line, f.code)
        for r in run.reports
        for f in r.findings
        if f.code in ("ZD401", "ZD409")
    ]
    assert waits == [(8, "ZD401"), (8, "ZD409")]  # v_seq belongs to v, which is not held
    (message,) = [f.message for r in run.reports for f in r.findings if f.code == "ZD401"]
    assert message.startswith("The ACCESS EXCLUSIVE lock on sequence `v_seq` is requested")
    assert "later inserts (which take their numbers from it) on `v` queue" in message


def test_ddl_inside_a_do_block_reaches_the_model_and_a_dropped_column_takes_its_constraints():
    model = model_of(
        "CREATE TABLE env (id int PRIMARY KEY);\n"
        "CREATE TABLE ev (id int PRIMARY KEY, env_id int REFERENCES env, n int UNIQUE);\n"
        "DO $$ BEGIN\n"
        "  IF EXISTS (SELECT 1 FROM information_schema.tables WHERE table_name = 'ev') THEN\n"
        "    ALTER TABLE ev DROP COLUMN IF EXISTS env_id CASCADE, DROP COLUMN n;\n"
        "  END IF;\n"
        "END $$;\n"
    )
    assert model.column("ev", "env_id") is None
    assert not [c for c in model.tables["ev"].constraints.values() if c.kind == "foreign"]
    assert "ev_n_key" not in model.indexes
    # nothing depends on env any more: a CASCADE drop of it drops nothing else
    assert model.dependents(ObjectType.OBJECT_TABLE, "env") == []


def test_serial_columns_own_their_sequence_and_take_its_default():
    model = model_of(
        "CREATE TABLE users (id serial PRIMARY KEY, n bigserial, t int GENERATED ALWAYS AS"
        " IDENTITY, plain int);"
        "CREATE TABLE legacy (id integer NOT NULL DEFAULT nextval('legacy_seq'::regclass));"
        "ALTER SEQUENCE public.legacy_seq OWNED BY public.legacy.id;"
    )
    users = model.tables["users"].columns
    assert users["id"].owned_sequence == "users_id_seq" and users["id"].not_null
    assert users["n"].owned_sequence == "users_n_seq" and users["n"].type == ColumnType("int8")
    assert "nextval" in str(users["id"].default) and "users_id_seq" in str(users["id"].default)
    assert users["t"].identity and users["t"].not_null and users["t"].owned_sequence is None
    assert not users["plain"].identity and users["plain"].default is None
    assert model.tables["legacy"].columns["id"].owned_sequence == "legacy_seq"


def test_a_sequence_belongs_to_the_table_whose_current_default_takes_from_it():
    # the sequences of a default are read once per default: a new default is read again
    model = model_of(
        "CREATE TABLE orders (id bigint DEFAULT nextval('orders_seq'::regclass));"
        "CREATE TABLE notes (id bigint);"
    )
    assert model.sequence_table("orders_seq") == "orders"
    assert model.sequence_table("notes_seq") is None
    for raw in parse_fast(
        "ALTER TABLE orders ALTER COLUMN id SET DEFAULT 0;"
        "ALTER TABLE notes ALTER COLUMN id SET DEFAULT nextval('public.notes_seq');"
    ):
        model.apply(raw.stmt)
    assert model.sequence_table("orders_seq") is None
    assert model.sequence_table("notes_seq") == "notes"


def test_a_folder_checked_to_its_end_frees_its_model_and_a_second_look_replays_it(tmp_path):
    from zdlint.lint import new_history

    write(tmp_path, "a/001.sql", "CREATE TABLE t (c int);\n")
    write(tmp_path, "a/002.sql", "CREATE INDEX i ON t (c);\n")
    write(tmp_path, "b/001.sql", "CREATE TABLE u (c int);\n")
    settings, catalogue = Settings(root=tmp_path), load_catalogue()
    history = new_history(settings)
    for name in ("a/001.sql", "a/002.sql"):
        model = history.model_before(tmp_path / name)
        for raw in parse_fast((tmp_path / name).read_text()):
            model.apply(raw.stmt)
        history.checked(tmp_path / name)
    assert not history._cursors  # a run over many folders keeps no finished folder's model
    # checked again (a file named twice): the earlier files are replayed once more
    assert set(history.model_before(tmp_path / "a/002.sql").tables) == {"t"}
    twice = [str(tmp_path / "a"), str(tmp_path / "a/002.sql")]
    found = [f.code for r in lint_paths(twice, settings, catalogue).reports for f in r.findings]
    assert found.count("ZD102") == 2  # the index on a table of an earlier migration


def test_the_model_keeps_index_and_constraint_definitions_through_a_snapshot():
    import json

    from zdlint.sql.snapshots import model_from_json, model_to_json

    model = model_of(
        "CREATE TABLE a (id serial PRIMARY KEY, n int CHECK (n > 0), p int REFERENCES a);"
        "CREATE INDEX a_n ON a (lower(n::text)) WHERE n > 3;"
        "ALTER TABLE a ALTER COLUMN p ADD GENERATED BY DEFAULT AS IDENTITY;"
    )
    index = model.indexes["a_n"]
    assert index.definition is not None and index.definition.whereClause is not None
    assert model.tables["a"].constraints["a_n_check"].definition is not None
    assert model.tables["a"].columns["p"].identity
    assert model_from_json(json.loads(json.dumps(model_to_json(model)))) == model
