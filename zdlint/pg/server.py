"""Start a throwaway PostgreSQL server for trace, verify and the test suite.

`initdb` runs once per binaries directory into a cache; each start copies that data
directory into a private temporary directory, starts `postgres` there with TCP off and
durability off, waits until it accepts connections, and removes everything on exit.

Postgres refuses to run as root. When we are root, only `initdb` and `postgres` run as an
existing unprivileged user (`nobody`); the directories zdlint creates for them are handed
to that user. No user is created and no permission is widened.
"""

from __future__ import annotations

import ctypes
import grp
import hashlib
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from zdlint.pg.binaries import Binaries, NoPostgresError, find_binaries

RUN_PREFIX = "zdlint-pg-"
PORT = 5432  # only names the socket file: TCP is off and the socket directory is private
SUPERUSER = "postgres"
CACHE_LAYOUT = "1"  # bump when the initdb options change, to rebuild caches
_PR_SET_PDEATHSIG = 1
_STALE_AFTER = 60.0  # seconds: a run directory without an owner this old is abandoned

SERVER_SETTINGS = {
    "listen_addresses": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "1GB",
    "checkpoint_timeout": "1h",
    "autovacuum": "off",  # keeps locks and statistics deterministic
    "jit": "off",
    "max_connections": "50",
    "logging_collector": "off",
    "log_min_messages": "warning",
    "timezone": "UTC",
}


@dataclass(frozen=True)
class RunAs:
    """The unprivileged account that runs initdb and postgres when we are root."""

    name: str
    uid: int
    gid: int


def unprivileged_account(name: str = "nobody") -> RunAs | None:
    """`nobody` (with group `nogroup`, else its own group) when we are root, else None."""
    if os.geteuid() != 0:
        return None
    try:
        user = pwd.getpwnam(name)
    except KeyError:
        raise NoPostgresError(
            f"Postgres cannot run as root and there is no user {name!r} to run it as; "
            "run zdlint as an ordinary user or pass a DSN."
        ) from None
    gid = user.pw_gid
    for group in ("nogroup", name):
        try:
            gid = grp.getgrnam(group).gr_gid
            break
        except KeyError:
            continue
    return RunAs(name, user.pw_uid, gid)


def reachable_by(path: Path, account: RunAs | None) -> str | None:
    """Why `account` cannot reach `path` (every parent searchable), or None when it can."""
    if account is None:
        return None
    groups = {account.gid}
    current = Path(path).resolve()
    for directory in [*reversed(current.parents), current]:
        try:
            st = directory.stat()
        except OSError as exc:
            return f"{directory} cannot be read ({exc.strerror})"
        if not stat.S_ISDIR(st.st_mode):
            continue
        if st.st_uid == account.uid:
            allowed = st.st_mode & stat.S_IXUSR
        elif st.st_gid in groups:
            allowed = st.st_mode & stat.S_IXGRP
        else:
            allowed = st.st_mode & stat.S_IXOTH
        if not allowed:
            return (
                f"user {account.name} cannot enter {directory} (Postgres refuses to run as "
                "root, so it runs as that user)"
            )
    return None


class PgServer:
    """A running throwaway server; use `start_server()` to get one."""

    def __init__(
        self,
        binaries: Binaries,
        run_dir: Path,
        process: subprocess.Popen[bytes],
        version: int,
    ) -> None:
        self.binaries = binaries
        self.run_dir = run_dir
        self.process = process
        self.version = version  # server_version_num, e.g. 180006

    @property
    def bindir(self) -> Path:
        return self.binaries.bindir

    @property
    def socket_dir(self) -> Path:
        return self.run_dir / "socket"

    @property
    def data_dir(self) -> Path:
        return self.run_dir / "data"

    @property
    def log_path(self) -> Path:
        return self.run_dir / "postgres.log"

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq connection string for `dbname` on this server."""
        return psycopg.conninfo.make_conninfo(
            host=str(self.socket_dir), port=PORT, user=SUPERUSER, dbname=dbname
        )

    def stop(self) -> None:
        """Stop the server at once (immediate shutdown: nothing here needs to persist)."""
        _stop_process(self.process)

    def __repr__(self) -> str:
        return f"<PgServer {self.binaries.version} at {self.socket_dir}>"


@contextmanager
def start_server(
    binaries: Binaries | None = None,
    *,
    cache_dir: Path | None = None,
    timeout: float = 60.0,
    env: Mapping[str, str] | None = None,
) -> Iterator[PgServer]:
    """Start a throwaway server; stop it and remove its files when the block ends."""
    account = unprivileged_account()
    temp_root = Path(tempfile.gettempdir())
    problem = reachable_by(temp_root, account)
    if problem:
        raise NoPostgresError(
            f"The temporary directory is not usable for Postgres: {problem}. "
            "Point TMPDIR elsewhere."
        )
    if binaries is None:
        binaries = find_binaries(env, usable=lambda d: reachable_by(d, account))
    sweep_stale_run_dirs(temp_root)
    run_dir = _make_run_dir(temp_root, account)
    process: subprocess.Popen[bytes] | None = None
    try:
        _prepare_data_dir(binaries, run_dir, account, cache_dir or default_cache_dir(env))
        process = _launch(binaries, run_dir, account)
        version = _wait_until_ready(process, run_dir, timeout)
        server = PgServer(binaries, run_dir, process, version)
        yield server
    finally:
        if process is not None:
            _stop_process(process)
        shutil.rmtree(run_dir, ignore_errors=True)


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CACHE_HOME/zdlint` (or `~/.cache/zdlint`)."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "zdlint"


def cache_key(binaries: Binaries, account: RunAs | None) -> str:
    owner = account.name if account else str(os.geteuid())
    digest = hashlib.sha256(f"{binaries.bindir}\0{owner}\0{CACHE_LAYOUT}".encode()).hexdigest()[:12]
    return f"pg-{binaries.version}-{digest}"


def sweep_stale_run_dirs(temp_root: Path) -> list[Path]:
    """Remove run directories whose owning process and postmaster are both gone."""
    removed = []
    for run_dir in temp_root.glob(RUN_PREFIX + "*"):
        try:
            owner = _read_pid(run_dir / "owner")
            if owner is None:
                if time.time() - run_dir.stat().st_mtime < _STALE_AFTER:
                    continue  # still being set up by someone
            elif _alive(owner):
                continue
            if _alive(_read_pid(run_dir / "data" / "postmaster.pid")) or _in_use(run_dir):
                continue
        except OSError:
            continue
        shutil.rmtree(run_dir, ignore_errors=True)
        if not run_dir.exists():
            removed.append(run_dir)
    return removed


def _in_use(run_dir: Path) -> bool:
    """Whether a process still works in `run_dir`: after the postmaster is killed, its
    children go on exiting (and writing) for a moment. Linux only; elsewhere False."""
    proc = Path("/proc")
    if not proc.is_dir():
        return False
    inside = str(run_dir.resolve()) + os.sep
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue  # gone, or not ours to look at
        if (cwd + os.sep).startswith(inside):
            return True
    return False


def _read_pid(path: Path) -> int | None:
    try:
        first = path.read_text().split("\n", 1)[0].strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(first) if first.isdigit() else None


def _alive(pid: int | None) -> bool:
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _make_run_dir(temp_root: Path, account: RunAs | None) -> Path:
    run_dir = Path(tempfile.mkdtemp(prefix=RUN_PREFIX, dir=temp_root))
    (run_dir / "owner").write_text(f"{os.getpid()}\n")
    socket_dir = run_dir / "socket"
    socket_dir.mkdir(mode=0o700)
    if account is not None:
        # Both directories were created just now by us; hand them to the server's user.
        for directory in (run_dir, socket_dir):
            os.chown(directory, account.uid, account.gid)
    return run_dir


def _prepare_data_dir(
    binaries: Binaries, run_dir: Path, account: RunAs | None, cache_root: Path
) -> None:
    """Copy the cached initialised data directory, building the cache first if needed."""
    data_dir = run_dir / "data"
    cached = cache_root / cache_key(binaries, account)
    if (cached / "PG_VERSION").is_file():
        copy_data_dir(cached, data_dir)
        return
    _initdb(binaries, data_dir, run_dir, account)
    try:
        cache_root.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=".build-", dir=cache_root))
        os.rmdir(building)
        copy_data_dir(data_dir, building)
        try:
            os.rename(building, cached)  # atomic; loses quietly to a concurrent builder
        except OSError:
            shutil.rmtree(building, ignore_errors=True)
    except OSError:
        pass  # no cache (read-only home, …): every start runs initdb


def _initdb(binaries: Binaries, data_dir: Path, run_dir: Path, account: RunAs | None) -> None:
    args = [
        str(binaries.initdb),
        "-D",
        str(data_dir),
        "--no-sync",
        "--locale=C",
        "--encoding=UTF8",
        "-U",
        SUPERUSER,
        "--auth=trust",
    ]
    if binaries.major >= 11:
        args.append("--wal-segsize=1")  # 1 MB WAL segments: a smaller directory to copy
    if binaries.major >= 14:
        args.append("--no-instructions")
    result = subprocess.run(
        args,
        cwd=run_dir,
        capture_output=True,
        text=True,
        env=_child_env(),
        preexec_fn=_die_with_parent,
        user=account.uid if account else None,
        group=account.gid if account else None,
        extra_groups=[] if account else None,
    )
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise NoPostgresError(
            f"initdb in {binaries.bindir} failed (exit {result.returncode}): " + " | ".join(tail)
        )


def copy_data_dir(source: Path, target: Path) -> None:
    """Copy a data directory keeping modes, and (as root) the owner of every entry.

    GNU `cp -a` does it about three times faster than Python (and clones the files on
    file systems that can); elsewhere a Python copy does the same.
    """
    if sys.platform.startswith("linux") and shutil.which("cp"):
        done = subprocess.run(
            ["cp", "-a", "--reflink=auto", "--", str(source), str(target)],
            capture_output=True,
        )
        if done.returncode == 0:
            return
        shutil.rmtree(target, ignore_errors=True)
    _copy_tree(source, target)


def _copy_tree(source: Path, target: Path) -> None:
    as_root = os.geteuid() == 0
    st = source.stat()
    os.mkdir(target, stat.S_IMODE(st.st_mode))
    os.chmod(target, stat.S_IMODE(st.st_mode))  # mkdir's mode is filtered by umask
    if as_root:
        os.chown(target, st.st_uid, st.st_gid)
    with os.scandir(source) as entries:
        for entry in entries:
            src, dst = Path(entry.path), target / entry.name
            if entry.is_symlink():
                os.symlink(os.readlink(src), dst)
                if as_root:
                    est = entry.stat(follow_symlinks=False)
                    os.lchown(dst, est.st_uid, est.st_gid)
            elif entry.is_dir(follow_symlinks=False):
                _copy_tree(src, dst)
            else:
                est = entry.stat(follow_symlinks=False)
                shutil.copyfile(src, dst, follow_symlinks=False)
                os.chmod(dst, stat.S_IMODE(est.st_mode))
                if as_root:
                    os.chown(dst, est.st_uid, est.st_gid)


def _launch(binaries: Binaries, run_dir: Path, account: RunAs | None) -> subprocess.Popen[bytes]:
    settings = {**SERVER_SETTINGS, "unix_socket_directories": str(run_dir / "socket")}
    args = [str(binaries.postgres), "-D", str(run_dir / "data"), "-p", str(PORT)]
    for name, value in settings.items():
        args += ["-c", f"{name}={value}"]
    with open(run_dir / "postgres.log", "wb") as log:
        return subprocess.Popen(
            args,
            cwd=run_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_child_env(),
            # Its own process group, so Ctrl-C in the terminal reaches zdlint only, which
            # then stops it in order; otherwise the server shuts down under the running
            # statement and zdlint reports the lost connection instead of the interrupt.
            start_new_session=True,
            preexec_fn=_die_with_parent,
            user=account.uid if account else None,
            group=account.gid if account else None,
            extra_groups=[] if account else None,
        )


def _child_env() -> dict[str, str]:
    """Our environment minus libpq/server variables that could redirect the server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


def _die_with_parent() -> None:
    """In the child: ask Linux to send SIGQUIT (immediate shutdown) when Python dies.

    Runs after the switch to the unprivileged user, which would otherwise clear it.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGQUIT, 0, 0, 0)


def _wait_until_ready(process: subprocess.Popen[bytes], run_dir: Path, timeout: float) -> int:
    """Poll a connection until the server answers; return its server_version_num."""
    conninfo = psycopg.conninfo.make_conninfo(
        host=str(run_dir / "socket"), port=PORT, user=SUPERUSER, dbname="postgres"
    )
    socket_file = run_dir / "socket" / f".s.PGSQL.{PORT}"
    deadline = time.monotonic() + timeout
    last_error = "the socket never appeared"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise NoPostgresError(
                f"postgres exited with code {process.returncode} while starting: "
                + _log_tail(run_dir)
            )
        if socket_file.exists():
            try:
                with psycopg.connect(conninfo, connect_timeout=5, autocommit=True) as conn:
                    return int(conn.execute("SHOW server_version_num").fetchone()[0])  # type: ignore[index]
            except psycopg.OperationalError as exc:
                last_error = str(exc).strip().splitlines()[-1]
        time.sleep(0.005)
    raise NoPostgresError(
        f"postgres did not accept connections within {timeout:.0f} s ({last_error}): "
        + _log_tail(run_dir)
    )


def _log_tail(run_dir: Path) -> str:
    try:
        lines = (run_dir / "postgres.log").read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return " | ".join(lines[-5:]) or "empty log"


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        process.send_signal(signal.SIGQUIT)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    except ProcessLookupError:
        pass
