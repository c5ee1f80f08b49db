"""Which migration tool runs a file, and how it wraps the file in transactions.

Each tool has its own marker for "run this without a transaction" (REFERENCE.md). A
file is cut into regions: a region runs either inside one transaction or statement by
statement, and `down` sections are not part of the deploy at all. Every layout says
what identified its tool (`reason`), so `zdlint check --show-settings` can explain it.

How each runner sends SQL decides what "no transaction" means. Goose, sql-migrate,
Atlas, Flyway, Liquibase and psql split a file and send one statement at a time.
golang-migrate, Prisma, dbmate, sqlx, Diesel and pop send a whole file (or section) as
one multi-statement query: inside their own BEGIN when they wrap it, and otherwise
PostgreSQL itself runs the statements of that one query in an implicit transaction
block, so only a statement alone in its file runs outside any transaction.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from zdlint.sql.parse import Statement

TRANSACTION_MODES = ("auto", "always", "never")
# The names `[tool.zdlint.tools]` accepts; "psql" runs every statement on its own.
TOOL_NAMES = (
    "atlas",
    "dbmate",
    "diesel",
    "flyway",
    "golang-migrate",
    "goose",
    "liquibase",
    "pop",
    "prisma",
    "psql",
    "sql-migrate",
    "sqitch",
    "sqlx",
)


@dataclass(frozen=True)
class Region:
    """A stretch of a file [start, end) run the same way."""

    start: int
    end: int
    wrapped: bool  # the stretch runs inside one transaction
    batch: bool = False  # sent as one multi-statement batch: COMMIT does not end the block
    deploy: bool = True  # False for down/rollback sections, which are not linted
    # Sent as one batch with no BEGIN of the tool's own: PostgreSQL's implicit block
    # wraps several statements, while a lone one runs outside any transaction.
    implicit: bool = False


@dataclass(frozen=True)
class ToolLayout:
    tool: str  # "goose", "flyway", ... or "psql" when nothing identifies a tool
    reason: str  # what identified it, for messages and --show-settings
    regions: tuple[Region, ...]

    def region_at(self, offset: int) -> Region:
        for region in self.regions:
            if region.start <= offset < region.end:
                return region
        return self.regions[-1]

    @property
    def wraps_by_default(self) -> bool:
        return any(r.wrapped for r in self.regions if r.deploy)


class ConfiguredTool(NamedTuple):  # a NamedTuple: a dataclass costs start-up time
    """A tool named in the config for the files a glob matches."""

    tool: str
    glob: str


def _whole(
    text: str, wrapped: bool, batch: bool = False, implicit: bool = False, deploy: bool = True
) -> tuple[Region, ...]:
    return (Region(0, max(len(text), 1), wrapped, batch, deploy, implicit),)


_GOOSE = re.compile(r"^--\s*\+goose\s+(up|down)\b", re.I | re.M)
_GOOSE_NO_TX = re.compile(r"^--\s*\+goose\s+no\s+transaction\b", re.I | re.M)
_DBMATE = re.compile(r"^--\s*migrate:(up|down)\b([^\n]*)", re.M)
_SQL_MIGRATE = re.compile(r"^--\s*\+migrate\s+(up|down)\b([^\n]*)", re.I | re.M)
_LIQUIBASE = re.compile(r"^--\s*liquibase\s+formatted\s+sql", re.I)
_LIQUIBASE_CHANGESET = re.compile(r"^--\s*changeset\s+\S+([^\n]*)", re.I | re.M)
# Atlas reads directives from the file's leading comments, which a blank line must end.
_ATLAS_NONE = (  # compiled (by `re`) only for Atlas files
    r"\A(?:[ \t]*--[^\n]*\n)*?"  # comments before it
    r"[ \t]*--\s*atlas:txmode\s+none\b[^\n]*\n"
    r"(?:[ \t]*--[^\n]*\n)*[ \t]*\n"  # more comments, then the blank line
)
_ATLAS_ANY = re.compile(r"^--\s*atlas:", re.I | re.M)
# sqlx: `sql.starts_with("-- no-transaction")`, the file's very first bytes
_SQLX_NO_TX = re.compile(r"\A\ufeff?-- no-transaction")
_FLYWAY_NAME = re.compile(r"^[VR]\d*(?:[._]\d+)*__.+\.sql$", re.I)
_FLYWAY_VERSION = re.compile(r"^(?P<prefix>[VR])(?P<version>\d+(?:[._]\d+)*)__(?P<rest>.+)$", re.I)
_GOLANG_MIGRATE_NAME = re.compile(r"^\d+_.+\.(up|down)\.sql$", re.I)
_SQLX_NAME = re.compile(r"^\d+_.+\.sql$", re.I)
# the folder names `diesel migration generate` writes (down.sql is optional with --no-down)
_DIESEL_FOLDER = re.compile(r"^(?:\d{4}-\d{2}-\d{2}-\d{6}(?:-\d{4})?|\d{14})_")
# pop / ory popx: <version>_<name>[.<dialect>][.autocommit].(up|down).sql
_POP_NAME = re.compile(
    r"^\d+_[^.]+(?:\.(?P<dialect>[a-z0-9]+))??(?P<autocommit>\.autocommit)?\.(?P<direction>up|down)\.sql$"
)
# pop.CanonicalDialect: the spellings of each dialect pop knows
POP_DIALECTS = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "pg": "postgres",
    "cockroach": "cockroach",
    "cockroachdb": "cockroach",
    "crdb": "cockroach",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite3",
    "sqlite3": "sqlite3",
}
# One pass that tells whether any of the marker comments above is present at all: most
# files have none, and searching for each marker separately was a fifth of the run.
_ANY_MARKER = re.compile(r"^--\s*(?:\+goose|migrate:|\+migrate|atlas:)", re.I | re.M)


def _sections(
    text: str,
    pattern: re.Pattern[str],
    wrapped_of: Callable[[str], bool],
    batch: bool = False,
    implicit_when_unwrapped: bool = False,
) -> tuple[Region, ...]:
    """Regions cut at every marker; text before the first marker is not deployed."""
    matches = list(pattern.finditer(text))
    regions = [Region(0, matches[0].start(), False, deploy=False)] if matches[0].start() else []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text) + 1
        direction = m.group(1).lower()
        options = m.group(2) if m.lastindex and m.lastindex >= 2 else ""
        wrapped = wrapped_of(options)
        implicit = implicit_when_unwrapped and not wrapped
        regions.append(
            Region(m.start(), end, wrapped or implicit, batch, direction == "up", implicit)
        )
    return tuple(regions)


# Within one run the same few questions about marker files are asked for every
# migration of a folder; `remembered_files()` lets a run answer each of them once.
_known_files: ContextVar[dict[tuple[str, str], object] | None] = ContextVar(
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


def _remembered(question: tuple[str, str], answer: Callable[[], object]) -> object:
    known = _known_files.get()
    if known is None:
        return answer()
    if question not in known:
        known[question] = answer()
    return known[question]


def _exists(folder: str, name: str) -> bool:
    """Whether `folder/name` exists (strings, not Paths: this runs for every file)."""
    return bool(_remembered((folder, name), lambda: os.path.exists(os.path.join(folder, name))))


def _sqitch_plan_above(folder: str) -> str | None:
    """The folder, `folder` or one of the two above it, that holds a sqitch.plan."""
    found = _remembered(
        (folder, "sqitch.plan above"),
        lambda: next((f for f in _folders_up(folder, 3) if _exists(f, "sqitch.plan")), None),
    )
    return found if isinstance(found, str) else None


def _pop_folder(folder: str) -> bool:
    """Whether a file of `folder` is named the way only pop names migrations (with a
    dialect or `.autocommit`): then its plain `NNN_x.up.sql` files are pop's too."""

    def scan() -> bool:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            return False
        for name in names:
            m = _POP_NAME.match(name)
            if m and (m.group("autocommit") or m.group("dialect") in POP_DIALECTS):
                return True
        return False

    return bool(_remembered((folder, "pop names"), scan))


def flyway_version(name: str) -> tuple[int, ...] | None:
    """A Flyway migration's version as Flyway compares it: numbers part by part, trailing
    zeros ignored (`V2_1` = 2.1, after `V2`; `V2.0` = `V2`). None for other names."""
    m = _FLYWAY_VERSION.match(name)
    if m is None or m.group("prefix").upper() != "V":
        return None
    parts = [int(p) for p in re.split(r"[._]", m.group("version"))]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def migration_order(name: str) -> tuple[int, tuple[int, ...], str]:
    """Sort key of a migration file name in its folder: Flyway versioned migrations by
    version (as Flyway orders them), then every other name as a string."""
    version = flyway_version(name)
    return (0, version, name) if version is not None else (1, (), name)


def diesel_order(folder: str) -> tuple[str, str]:
    """Sort key of a Diesel migration folder: Diesel compares versions, the part of the
    name before the first `_` with its dashes removed, as strings."""
    return folder.split("_", 1)[0].replace("-", ""), folder


def foreign_dialect(name: str) -> str | None:
    """The dialect of a pop migration written for another database than PostgreSQL
    (`x.mysql.up.sql` → "mysql"), or None."""
    m = _POP_NAME.match(name)
    if m is None or m.group("dialect") is None:
        return None
    dialect = POP_DIALECTS.get(m.group("dialect"))
    return dialect if dialect not in (None, "postgres") else None


def detect_tool(
    path: Path | None, text: str, configured: ConfiguredTool | None = None
) -> ToolLayout:
    """Identify the migration tool (the config's choice first, then markers in the text,
    then the file layout) and cut the file into the regions that tool runs."""
    if configured is not None:
        reason = f"config: [tool.zdlint.tools] {configured.glob!r} = {configured.tool!r}"
        return _LAYOUTS[configured.tool](path, text, reason)
    marked = _ANY_MARKER.search(text) is not None
    if marked and _GOOSE.search(text):
        return _goose(path, text, "-- +goose Up marker")
    if marked and _DBMATE.search(text):
        return _dbmate(path, text, "-- migrate:up marker")
    if marked and _SQL_MIGRATE.search(text):
        return _sql_migrate(path, text, "-- +migrate Up marker")
    if _LIQUIBASE.match(text):
        return _liquibase(path, text, "-- liquibase formatted sql header")
    if _SQLX_NO_TX.match(text):
        return _sqlx(path, text, "-- no-transaction first line (sqlx)")
    if marked and _ATLAS_ANY.search(text):
        return _atlas(path, text, "-- atlas: directive")
    if path is None:
        return _psql(path, text, "standard input: no migration tool recognised")
    return _detect_from_layout(path, text)


def _detect_from_layout(path: Path, text: str) -> ToolLayout:
    name = path.name
    folder = os.path.dirname(path)
    if _FLYWAY_NAME.match(name):
        return _flyway(path, text, "V<version>__<name>.sql file name (Flyway)")
    if name == "up.sql" and (_exists(folder, "down.sql") or _exists(folder, "metadata.toml")):
        beside = "metadata.toml" if _exists(folder, "metadata.toml") else "down.sql"
        return _diesel(path, text, f"up.sql with {beside} beside it (Diesel)")
    if name == "up.sql" and _DIESEL_FOLDER.match(os.path.basename(folder)):
        return _diesel(path, text, "up.sql in a <yyyy-mm-dd-hhmmss>_<name>/ folder (Diesel)")
    if name == "migration.sql" and _exists(os.path.dirname(folder), "migration_lock.toml"):
        return _prisma(path, text, "migration.sql with ../migration_lock.toml (Prisma)")
    if name == "migration.sql" and os.path.basename(folder)[:1].isdigit():
        return _prisma(path, text, "<timestamp>_<name>/migration.sql folder (Prisma)")
    pop = _POP_NAME.match(name)
    if pop and pop.group("dialect") in POP_DIALECTS:
        return _pop(path, text, f"<version>_<name>.{pop.group('dialect')}.*.sql file name (pop)")
    if pop and pop.group("autocommit"):
        return _pop(path, text, "<version>_<name>.autocommit.*.sql file name (pop)")
    if pop and _pop_folder(folder):
        return _pop(path, text, "beside files named <version>_<name>.<dialect>.up.sql (pop)")
    if _GOLANG_MIGRATE_NAME.match(name):
        # Atlas writes an atlas.sum beside the golang-migrate files it generates
        # (`--dir-format golang-migrate`); golang-migrate is what runs them.
        also = " (atlas.sum beside it: generated by Atlas)" if _exists(folder, "atlas.sum") else ""
        return _golang_migrate(path, text, f"<version>_<name>.up.sql file name{also}")
    if _exists(folder, "atlas.sum"):
        return _atlas(path, text, "atlas.sum in the folder")
    plan = _sqitch_plan_above(folder)
    if plan is not None:
        return _sqitch(path, text, f"sqitch.plan in {plan or '.'}")
    if _SQLX_NAME.match(name) and os.path.basename(folder) == "migrations":
        return _sqlx(path, text, "<version>_<name>.sql in a migrations/ folder (sqlx)")
    return _psql(path, text, "no migration tool recognised")


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


# --- one layout per tool: (path, text, reason) -> ToolLayout -----------------------


def _goose(path: Path | None, text: str, reason: str) -> ToolLayout:
    wrapped = not _GOOSE_NO_TX.search(text)
    if not wrapped:
        reason += "; -- +goose NO TRANSACTION"
    if not _GOOSE.search(text):
        return ToolLayout("goose", reason, _whole(text, wrapped))
    return ToolLayout("goose", reason, _sections(text, _GOOSE, lambda _o: wrapped))


def _dbmate(path: Path | None, text: str, reason: str) -> ToolLayout:
    # dbmate sends each section as one query, in its own BEGIN unless transaction:false
    def wrapped(options: str) -> bool:
        return "transaction:false" not in options.replace(" ", "")

    if not _DBMATE.search(text):
        return ToolLayout("dbmate", reason, _whole(text, True, batch=True))
    regions = _sections(text, _DBMATE, wrapped, batch=True, implicit_when_unwrapped=True)
    return ToolLayout("dbmate", reason, regions)


def _sql_migrate(path: Path | None, text: str, reason: str) -> ToolLayout:
    if not _SQL_MIGRATE.search(text):
        return ToolLayout("sql-migrate", reason, _whole(text, True))
    regions = _sections(text, _SQL_MIGRATE, lambda o: "notransaction" not in o.lower())
    return ToolLayout("sql-migrate", reason, regions)


def _liquibase(path: Path | None, text: str, reason: str) -> ToolLayout:
    matches = list(_LIQUIBASE_CHANGESET.finditer(text))
    if not matches:
        return ToolLayout("liquibase", reason, _whole(text, True))
    regions = [Region(0, matches[0].start(), False, deploy=False)]
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text) + 1
        wrapped = "runintransaction:false" not in m.group(1).replace(" ", "").lower()
        regions.append(Region(m.start(), end, wrapped))
    return ToolLayout("liquibase", reason, tuple(regions))


def _sqlx(path: Path | None, text: str, reason: str) -> ToolLayout:
    # sqlx executes the whole file as one query, after a BEGIN unless -- no-transaction
    if _SQLX_NO_TX.match(text):
        return ToolLayout("sqlx", reason, _whole(text, True, batch=True, implicit=True))
    return ToolLayout("sqlx", reason, _whole(text, True, batch=True))


def _atlas(path: Path | None, text: str, reason: str) -> ToolLayout:
    # Atlas runs statement by statement, in one transaction per file by default
    wrapped = not re.match(_ATLAS_NONE, text, re.I)
    if not wrapped and "txmode" not in reason:
        reason += "; -- atlas:txmode none"
    return ToolLayout("atlas", reason, _whole(text, wrapped))


def _flyway(path: Path | None, text: str, reason: str) -> ToolLayout:
    if path is None:
        return ToolLayout("flyway", reason, _whole(text, True))
    conf = path.with_name(path.name + ".conf")
    wrapped = not _flyway_conf_disables_transaction(conf)
    if not wrapped:
        reason += f"; {conf.name} sets executeInTransaction=false"
    return ToolLayout("flyway", reason, _whole(text, wrapped))


def _diesel(path: Path | None, text: str, reason: str) -> ToolLayout:
    wrapped = path is None or _diesel_runs_in_transaction(path.parent / "metadata.toml")
    if not wrapped:
        reason += "; metadata.toml sets run_in_transaction = false"
    # diesel runs up.sql with batch_execute: without its transaction, an implicit block
    return ToolLayout("diesel", reason, _whole(text, True, batch=True, implicit=not wrapped))


def _prisma(path: Path | None, text: str, reason: str) -> ToolLayout:
    return ToolLayout("prisma", reason, _whole(text, True, batch=True, implicit=True))


def _golang_migrate(path: Path | None, text: str, reason: str) -> ToolLayout:
    return ToolLayout("golang-migrate", reason, _whole(text, True, batch=True, implicit=True))


def _pop(path: Path | None, text: str, reason: str) -> ToolLayout:
    m = _POP_NAME.match(path.name) if path is not None else None
    if m is not None and m.group("direction") == "down":
        return ToolLayout("pop", reason + "; a down migration", _whole(text, False, deploy=False))
    dialect = foreign_dialect(path.name) if path is not None else None
    if dialect is not None:
        reason += f"; written for {dialect}, not PostgreSQL"
        return ToolLayout("pop", reason, _whole(text, False, deploy=False))
    if m is not None and m.group("autocommit"):
        # no BEGIN of pop's own: the file is one query, so several statements still
        # form PostgreSQL's implicit block
        return ToolLayout("pop", reason, _whole(text, True, batch=True, implicit=True))
    return ToolLayout("pop", reason, _whole(text, True, batch=True))


def _sqitch(path: Path | None, text: str, reason: str) -> ToolLayout:
    folder = os.path.basename(os.path.dirname(path)) if path is not None else ""
    if folder in ("revert", "verify"):
        # sqitch deploys only deploy/ scripts; revert/ and verify/ never run on deploy
        reason += f"; a {folder} script"
        return ToolLayout("sqitch", reason, _whole(text, False, deploy=False))
    return ToolLayout("sqitch", reason, _whole(text, False))


def _psql(path: Path | None, text: str, reason: str) -> ToolLayout:
    return ToolLayout("psql", reason, _whole(text, False))


_LAYOUTS: dict[str, Callable[[Path | None, str, str], ToolLayout]] = {
    "atlas": _atlas,
    "dbmate": _dbmate,
    "diesel": _diesel,
    "flyway": _flyway,
    "golang-migrate": _golang_migrate,
    "goose": _goose,
    "liquibase": _liquibase,
    "pop": _pop,
    "prisma": _prisma,
    "psql": _psql,
    "sql-migrate": _sql_migrate,
    "sqitch": _sqitch,
    "sqlx": _sqlx,
}


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


def describe_transactions(layout: ToolLayout) -> str:
    """How the tool runs the deployed parts of a file, in words (for --show-settings)."""
    deployed = [r for r in layout.regions if r.deploy]
    if not deployed:
        return "not deployed (a rollback, revert or other-database script): not checked"
    if all(r.implicit for r in deployed):
        return (
            "sent as one query without BEGIN: several statements run in one implicit "
            "transaction, a statement alone in its file outside any"
        )
    wrapped = [r for r in deployed if r.wrapped]
    if len(wrapped) == len(deployed):
        each = "per section" if len(deployed) > 1 else "per file"
        return f"one transaction {each}"
    if not wrapped:
        return "no transaction: each statement commits on its own"
    return f"{len(wrapped)} of {len(deployed)} sections in a transaction, the others without"


def apply_transaction_mode(layout: ToolLayout, mode: str) -> ToolLayout:
    """The config's `transaction` override: "always" or "never" wraps every deploy region."""
    if mode == "auto":
        return layout
    wrapped = mode == "always"
    regions = tuple(Region(r.start, r.end, wrapped, r.batch, r.deploy) for r in layout.regions)
    return ToolLayout(layout.tool, f"{layout.reason}; transaction = {mode!r} in config", regions)


def lone_statement_unwrapped(layout: ToolLayout, statement_starts: list[int]) -> ToolLayout:
    """A batch sent without BEGIN (golang-migrate, Prisma, dbmate `transaction:false`, …)
    runs in PostgreSQL's implicit block only when it holds several statements."""
    regions = []
    for r in layout.regions:
        if r.implicit and r.deploy:
            several = sum(r.start <= s < r.end for s in statement_starts) > 1
            r = Region(r.start, r.end, several, r.batch, r.deploy, r.implicit)
        regions.append(r)
    if tuple(regions) == layout.regions:
        return layout
    return ToolLayout(layout.tool, f"{layout.reason}; one statement", tuple(regions))


def flyway_runs_outside(layout: ToolLayout, statements: Sequence[Statement]) -> ToolLayout:
    """Flyway finds statements no transaction may hold (CREATE INDEX CONCURRENTLY, …) and
    runs a migration made only of them outside a transaction. (Mixed with others it
    refuses to run unless `mixed=true`: kept wrapped, so the CONCURRENTLY one is reported.)"""
    from zdlint.sql.checks.concurrently_in_transaction import concurrent_kind

    if layout.tool != "flyway" or not layout.wraps_by_default:
        return layout
    deployed = [s for s in statements if s.node is not None]
    if not deployed or not all(concurrent_kind(s.node) for s in deployed):
        return layout
    regions = tuple(Region(r.start, r.end, False, r.batch, r.deploy) for r in layout.regions)
    reason = f"{layout.reason}; only non-transactional statements, which Flyway runs outside"
    return ToolLayout(layout.tool, reason, regions)


def layout_for_statements(
    path: Path | None,
    statements: Sequence[Statement],
    text: str,
    configured: ConfiguredTool | None = None,
) -> ToolLayout:
    """The layout of a parsed file: its tool's, adjusted for what the statements are."""
    layout = detect_tool(path, text, configured)
    layout = lone_statement_unwrapped(layout, [s.start for s in statements])
    return flyway_runs_outside(layout, statements)


def file_runs_in_transaction(
    path: Path | None, text: str, configured: ConfiguredTool | None = None
) -> bool:
    """Whether the file's migration tool runs it inside a transaction (the whole file, as
    trace and verify run it): its markers and layout, and for a batch sent without BEGIN
    the number of statements (a lone statement is not wrapped)."""
    from zdlint.source import SourceText
    from zdlint.sql.parse import parse_statements

    statements = parse_statements(SourceText(text))
    return layout_for_statements(path, statements, text, configured).wraps_by_default
