"""Which files to check, and which kind each one is."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

SQL = "sql"
K8S = "k8s"
# A .json file: a Kubernetes manifest when it holds apiVersion and kind, else not ours.
K8S_JSON = "k8s-json"
# A .py file: a Django or Alembic migration when its content says so, else not ours.
PYTHON = "python"
STDIN = "-"

SQL_SUFFIXES = {".sql"}
# Files named for one database among several (`x.sql.postgres`, beside `x.sql.mysql`)
SQL_NAME_ENDINGS = (".sql.postgres",)
YAML_SUFFIXES = {".yaml", ".yml"}
JSON_SUFFIXES = {".json"}
PYTHON_SUFFIXES = {".py"}
_DJANGO_MIGRATION_NAME = re.compile(r"^\d{4}_\w*\.py$")
SKIPPED_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox"}
# Rollback scripts are not part of a deploy: skipped when walking a folder.
_DOWN_FILE = re.compile(r"(^|[._-])down\.sql$|^U\d+.*__.*\.sql$", re.I)
# Called with each SQL file left out, why, and whether it was named on the command line.
OnSkip = Callable[[Path, str, bool], None]
_K8S_CONTENT = re.compile(r"^apiVersion\s*:", re.M)
_K8S_KIND = re.compile(r"^kind\s*:", re.M)


@dataclass(frozen=True)
class Target:
    """One file to check (or stdin), as discovered from the command line."""

    display: str  # the path as the user will see it
    path: Path | None  # None for stdin
    kind: str | None  # SQL, K8S, or None to decide from the content


class DiscoveryError(Exception):
    """A path given on the command line cannot be used."""


def is_sql_name(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(SQL_NAME_ENDINGS) or os.path.splitext(lower)[1] in SQL_SUFFIXES


def is_deployed_sql_name(name: str) -> bool:
    """A PostgreSQL migration that a deploy runs: SQL, not a rollback, not for another
    database (what a folder walk and the schema history take)."""
    return is_sql_name(name) and not is_rollback_name(name) and not_postgres(name) is None


def kind_of_name(path: Path) -> str | None:
    if is_sql_name(path.name):
        return SQL
    suffix = path.suffix.lower()
    if suffix in YAML_SUFFIXES:
        return K8S
    if suffix in JSON_SUFFIXES:
        return K8S_JSON
    if suffix in PYTHON_SUFFIXES:
        return PYTHON
    return None


def is_python_migration_name(path: Path) -> bool:
    """Where a folder walk looks for Python migrations: Django's `migrations/NNNN_x.py`
    and the modules of an Alembic `versions` folder."""
    folder = path.parent.name
    if folder == "migrations":
        return _DJANGO_MIGRATION_NAME.match(path.name) is not None
    return folder == "versions" and path.name != "__init__.py"


def kind_of_text(text: str) -> str:
    """Decide from the content: Kubernetes YAML has top-level apiVersion and kind, and
    so does a JSON manifest."""
    if _K8S_CONTENT.search(text) and _K8S_KIND.search(text):
        return K8S
    if is_json_manifest(text):
        return K8S
    return SQL


def is_json_manifest(text: str) -> bool:
    """Whether the text is a JSON object with apiVersion and kind (a List included)."""
    if not text.lstrip().startswith("{"):
        return False
    import json

    try:
        value = json.loads(text)
    except ValueError:
        return False
    return (
        isinstance(value, dict)
        and isinstance(value.get("apiVersion"), str)
        and isinstance(value.get("kind"), str)
    )


def is_rollback_name(name: str) -> bool:
    """Whether a file name is a down/undo migration, which no deploy runs."""
    return _DOWN_FILE.search(name) is not None


def not_postgres(name: str) -> str | None:
    """Why a migration file is for another database than PostgreSQL, or None."""
    from zdlint.sql.tools import foreign_dialect

    dialect = foreign_dialect(name)
    return None if dialect is None else f"a pop migration for {dialect}, not PostgreSQL"


def discover(  # type: ignore[no-untyped-def]
    arguments: list[str], excluded, on_skip: OnSkip | None = None, force_exclude: bool = False
) -> Iterator[Target | DiscoveryError]:
    """Targets for each argument, in order; errors are yielded, not raised, so the
    other arguments are still checked. Migrations written for another database are
    never checked, even when named; `on_skip` hears of each. A file named on the command
    line is checked even when `excluded` unless `force_exclude` (as ruff does: pre-commit
    names every changed file). Walking a folder leaves out what git ignores."""
    for argument in arguments:
        if argument == STDIN:
            yield Target(STDIN, None, None)
            continue
        path = Path(argument)
        try:
            is_dir = stat.S_ISDIR(os.stat(argument).st_mode)
        except (OSError, ValueError):
            is_dir = False
            if not os.path.lexists(argument):  # a dangling link is reported when read
                yield DiscoveryError(f"{argument}: no such file or directory")
                continue
        if is_dir:
            yield from _walk(path, excluded, on_skip)
            continue
        if force_exclude and excluded(path):
            continue
        foreign = not_postgres(path.name)
        if foreign is not None:
            if on_skip is not None:
                on_skip(path, foreign, True)
            continue
        yield Target(_display(path), path, kind_of_name(path))


def _walk(root: Path, excluded, on_skip: OnSkip | None) -> Iterator[Target | DiscoveryError]:  # type: ignore[no-untyped-def]
    found: list[Path] = []

    def on_error(error: OSError) -> None:
        found.append(Path(f"\0{error.filename}: {error.strerror}"))

    for folder, dirs, files in os.walk(root, onerror=on_error, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            kind = kind_of_name(path)
            if kind is None or is_rollback_name(name):
                continue
            if kind == PYTHON and not is_python_migration_name(path):
                continue
            foreign = not_postgres(name)
            if foreign is not None:
                if on_skip is not None and not excluded(path):
                    on_skip(path, foreign, False)
                continue
            found.append(path)
    from zdlint.vcs import git_ignored

    ignored = git_ignored([p for p in found if not str(p).startswith("\0")], root)
    for path in found:
        text = str(path)
        if text.startswith("\0"):
            yield DiscoveryError(f"{text[1:]} (the folder is skipped)")
        elif path not in ignored and not excluded(path):
            yield Target(_display(path), path, kind_of_name(path))


def _display(path: Path) -> str:
    return path.as_posix()
