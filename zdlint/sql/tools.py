"""Which migration tool runs a file, and how it wraps the file in transactions.

Each tool has its own marker for "run this without a transaction" (REFERENCE.md). A
file is cut into regions: a region runs either inside one implicit transaction or
statement by statement, and `down` sections are not part of the deploy at all.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

TRANSACTION_MODES = ("auto", "always", "never")
# Tools that send the whole file as one simple-protocol query and no BEGIN of their own:
# PostgreSQL runs several statements of one query in an implicit transaction block, but a
# lone statement outside any (so CREATE INDEX CONCURRENTLY alone in its file works).
IMPLICIT_BLOCK_TOOLS = frozenset({"golang-migrate", "prisma"})


@dataclass(frozen=True)
class Region:
    """A stretch of a file [start, end) run the same way."""

    start: int
    end: int
    wrapped: bool  # the tool runs the stretch inside one transaction
    batch: bool = False  # sent as one multi-statement batch: COMMIT does not end the block
    deploy: bool = True  # False for down/rollback sections, which are not linted


@dataclass(frozen=True)
class ToolLayout:
    tool: str  # "goose", "flyway", ... or "psql" when nothing identifies a tool
    reason: str  # what identified it, for messages
    regions: tuple[Region, ...]

    def region_at(self, offset: int) -> Region:
        for region in self.regions:
            if region.start <= offset < region.end:
                return region
        return self.regions[-1]

    @property
    def wraps_by_default(self) -> bool:
        return any(r.wrapped for r in self.regions if r.deploy)


def _whole(text: str, wrapped: bool, batch: bool = False) -> tuple[Region, ...]:
    return (Region(0, max(len(text), 1), wrapped, batch),)


_GOOSE = re.compile(r"^--\s*\+goose\s+(up|down)\b", re.I | re.M)
_GOOSE_NO_TX = re.compile(r"^--\s*\+goose\s+no\s+transaction\b", re.I | re.M)
_DBMATE = re.compile(r"^--\s*migrate:(up|down)\b([^\n]*)", re.M)
_SQL_MIGRATE = re.compile(r"^--\s*\+migrate\s+(up|down)\b([^\n]*)", re.I | re.M)
_LIQUIBASE = re.compile(r"^--\s*liquibase\s+formatted\s+sql", re.I)
_LIQUIBASE_CHANGESET = re.compile(r"^--\s*changeset\s+\S+([^\n]*)", re.I | re.M)
_ATLAS_NONE = re.compile(r"^--\s*atlas:txmode\s+none\b", re.I | re.M)
_ATLAS_ANY = re.compile(r"^--\s*atlas:", re.I | re.M)
_SQLX_NO_TX = re.compile(r"\A(?:\ufeff)?--\s*no-transaction\s*$", re.M)
_FLYWAY_NAME = re.compile(r"^[VR]\d*(?:[._]\d+)*__.+\.sql$", re.I)
# Diesel names a migration's folder after the time it was generated:
# 2019-02-26-002946_create_user, 2026-03-13-123650-0000_fix (Diesel 2.2), or the
# 00000000000000_diesel_initial_setup that `diesel setup` writes.
_DIESEL_FOLDER = re.compile(r"^(?:\d{4}-\d{2}-\d{2}-\d{6}(?:-\d{4})?|\d{14})_.+$")
_GOLANG_MIGRATE_NAME = re.compile(r"^\d+_.+\.(up|down)\.sql$", re.I)
_SQLX_NAME = re.compile(r"^\d+_.+\.sql$", re.I)
# One pass that tells whether any of the marker comments above is present at all: most
# files have none, and searching for each marker separately was a fifth of the run.
_ANY_MARKER = re.compile(r"^--\s*(?:\+goose|migrate:|\+migrate|atlas:)", re.I | re.M)


def _sections(
    text: str, pattern: re.Pattern[str], wrapped_of: object, batch: bool = False
) -> tuple[Region, ...]:
    """Regions cut at every marker; text before the first marker is not deployed."""
    matches = list(pattern.finditer(text))
    regions = [Region(0, matches[0].start(), False, deploy=False)] if matches[0].start() else []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text) + 1
        direction = m.group(1).lower()
        options = m.group(2) if m.lastindex and m.lastindex >= 2 else ""
        wrapped = wrapped_of(options)  # type: ignore[operator]
        regions.append(Region(m.start(), end, wrapped, batch, deploy=direction == "up"))
    return tuple(regions)


# Within one run the same few questions about marker files are asked for every
# migration of a folder; `remembered_files()` lets a run answer each of them once.
_known_files: ContextVar[dict[tuple[str, str], bool] | None] = ContextVar(
    "zdlint_known_files", default=None
)


@contextmanager
def remembered_files() -> Iterator[None]:
    """For the length of one run, each marker file's existence is looked up once."""
    token = _known_files.set({})
    try:
        yield
    finally:
        _known_files.reset(token)


def _remembered(question: tuple[str, str], answer: Callable[[], bool]) -> bool:
    known = _known_files.get()
    if known is None:
        return answer()
    found = known.get(question)
    if found is None:
        found = known[question] = answer()
    return found


def _exists(folder: str, name: str) -> bool:
    """Whether `folder/name` exists (strings, not Paths: this runs for every file)."""
    return _remembered((folder, name), lambda: os.path.exists(os.path.join(folder, name)))


def _sqitch_plan_above(folder: str) -> bool:
    """Whether `folder` or one of the two folders above it holds a sqitch.plan."""
    return _remembered(
        (folder, "sqitch.plan above"),
        lambda: any(_exists(f, "sqitch.plan") for f in _folders_up(folder, 3)),
    )


def detect_tool(path: Path | None, text: str) -> ToolLayout:
    """Identify the migration tool from markers in the text, then from the file layout."""
    marked = _ANY_MARKER.search(text) is not None
    if marked and _GOOSE.search(text):
        wrapped = not _GOOSE_NO_TX.search(text)
        return ToolLayout("goose", "-- +goose marker", _sections(text, _GOOSE, lambda _o: wrapped))
    if marked and _DBMATE.search(text):
        return ToolLayout(
            "dbmate",
            "-- migrate:up marker",
            _sections(text, _DBMATE, lambda o: "transaction:false" not in o.replace(" ", "")),
        )
    if marked and _SQL_MIGRATE.search(text):
        return ToolLayout(
            "sql-migrate",
            "-- +migrate marker",
            _sections(text, _SQL_MIGRATE, lambda o: "notransaction" not in o.lower()),
        )
    if _LIQUIBASE.match(text):
        return ToolLayout("liquibase", "liquibase formatted sql header", _liquibase(text))
    if _SQLX_NO_TX.match(text):
        return ToolLayout("sqlx", "-- no-transaction first line", _whole(text, False))
    folder = os.path.dirname(path) if path is not None else ""
    if (marked and _ATLAS_ANY.search(text)) or (path is not None and _exists(folder, "atlas.sum")):
        wrapped = not _ATLAS_NONE.search(text)
        return ToolLayout("atlas", "atlas directive or atlas.sum", _whole(text, wrapped))
    if path is None:
        return ToolLayout("psql", "no migration tool recognised", _whole(text, False))
    return _detect_from_layout(path, folder, text)


def _detect_from_layout(path: Path, folder: str, text: str) -> ToolLayout:
    name = path.name
    if _FLYWAY_NAME.match(name):
        conf = path.with_name(name + ".conf")
        wrapped = not _flyway_conf_disables_transaction(conf)
        reason = f"Flyway file name{' and ' + conf.name if not wrapped else ''}"
        return ToolLayout("flyway", reason, _whole(text, wrapped))
    if name == "up.sql" and (
        _exists(folder, "down.sql")
        or _exists(folder, "metadata.toml")
        or _DIESEL_FOLDER.match(os.path.basename(folder))
    ):
        wrapped = _diesel_runs_in_transaction(path.parent / "metadata.toml")
        return ToolLayout("diesel", "Diesel up.sql layout", _whole(text, wrapped, batch=True))
    if name == "migration.sql" and (
        _exists(os.path.dirname(folder), "migration_lock.toml")
        or os.path.basename(folder)[:1].isdigit()
    ):
        return ToolLayout("prisma", "Prisma migration.sql layout", _whole(text, True, batch=True))
    if _GOLANG_MIGRATE_NAME.match(name):
        return ToolLayout(
            "golang-migrate", "NNN_name.up.sql file name", _whole(text, True, batch=True)
        )
    if _sqitch_plan_above(folder):
        return ToolLayout("sqitch", "sqitch.plan", _whole(text, False))
    if _SQLX_NAME.match(name) and os.path.basename(folder) == "migrations":
        return ToolLayout("sqlx", "NNN_name.sql in migrations/", _whole(text, True, batch=True))
    return ToolLayout("psql", "no migration tool recognised", _whole(text, False))


def _folders_up(folder: str, count: int) -> list[str]:
    """`folder` and its parents, `count` of them at most (as `Path.parents` would give)."""
    folders: list[str] = []
    while len(folders) < count:
        folders.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder or not folder:
            break
        folder = parent
    return folders


def _liquibase(text: str) -> tuple[Region, ...]:
    matches = list(_LIQUIBASE_CHANGESET.finditer(text))
    if not matches:
        return _whole(text, True)
    regions = [Region(0, matches[0].start(), False, deploy=False)]
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text) + 1
        wrapped = "runintransaction:false" not in m.group(1).replace(" ", "").lower()
        regions.append(Region(m.start(), end, wrapped))
    return tuple(regions)


def _flyway_conf_disables_transaction(conf: Path) -> bool:
    try:
        content = conf.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return bool(re.search(r"^\s*executeInTransaction\s*=\s*false\s*$", content, re.I | re.M))


def _diesel_runs_in_transaction(metadata: Path) -> bool:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(metadata.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True
    return data.get("run_in_transaction", True) is not False


def apply_transaction_mode(layout: ToolLayout, mode: str) -> ToolLayout:
    """The config's `transaction` override: "always" or "never" wraps every deploy region."""
    if mode == "auto":
        return layout
    wrapped = mode == "always"
    regions = tuple(Region(r.start, r.end, wrapped, r.batch, r.deploy) for r in layout.regions)
    return ToolLayout(layout.tool, f"{layout.reason}; transaction = {mode!r} in config", regions)


def lone_statement_unwrapped(layout: ToolLayout, statement_starts: list[int]) -> ToolLayout:
    """A golang-migrate or Prisma file holding one statement runs it outside a transaction."""
    if layout.tool not in IMPLICIT_BLOCK_TOOLS:
        return layout
    regions = []
    for r in layout.regions:
        alone = sum(r.start <= s < r.end for s in statement_starts) == 1
        wrapped = r.wrapped and not (alone and r.batch and r.deploy)
        regions.append(Region(r.start, r.end, wrapped, r.batch, r.deploy))
    if tuple(regions) == layout.regions:
        return layout
    return ToolLayout(layout.tool, f"{layout.reason}; one statement", tuple(regions))


def file_runs_in_transaction(path: Path | None, text: str) -> bool:
    """Whether the file's migration tool runs it inside a transaction (the whole file, as
    trace and verify run it): its markers and layout, and for a batch tool the number of
    statements (a lone statement is not wrapped)."""
    from zdlint.source import SourceText
    from zdlint.sql.parse import parse_statements

    starts = [s.start for s in parse_statements(SourceText(text))]
    return lone_statement_unwrapped(detect_tool(path, text), starts).wraps_by_default
