"""`zdlint verify`: apply a migration under live traffic and measure the stall it causes.

The set-up runs in a scratch database, the tables the migration touches are seeded and
vacuumed; that database is the template of one clone per run. Each run starts writers,
readers and the lock monitor (load.py), applies its script after a lead-in, keeps the
traffic going for a tail, and measures. Runs: the migration, optionally its fix, and
always a control with no migration over the same time window, on identical clones.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from pglast import ast
from psycopg import sql
from psycopg.pq import TransactionStatus

from zdlint.pg.load import LoadSettings, LockWaits, Op, connect, running_load
from zdlint.pg.scratch import Database, ScratchDatabase
from zdlint.pg.seed import SeedReport, seed_tables
from zdlint.pg.server import PgServer
from zdlint.pg.trace import SetupItem, apply_setup, check_runnable, error_text, parse_setup
from zdlint.pg.workload import TableWorkload, build_workloads
from zdlint.source import SourceText
from zdlint.sql.parse import Statement, parse_statements
from zdlint.sql.tools import file_runs_in_transaction

Progress = Callable[[str, "float | None"], None]  # (what is happening, seconds expected)


class VerifyError(Exception):
    """Verify could not run (bad set-up, nothing to load, timeout); the message says why."""


class FixUnavailable(VerifyError):
    """The fix engine is not part of this build."""


@dataclass(frozen=True)
class Block:
    """Statements run the same way: inside one transaction, or one at a time."""

    source: str  # file name, for labels and errors
    statements: tuple[Statement, ...]
    in_transaction: bool


@dataclass(frozen=True)
class Script:
    """What one run applies: the migration, or its fixed version."""

    blocks: tuple[Block, ...]

    @classmethod
    def from_texts(cls, items: Sequence[tuple[str, str, bool]]) -> Script:
        """From (source name, SQL text, runs in a transaction) items, in order."""
        return cls(
            tuple(
                Block(source, tuple(parse_statements(SourceText(text))), in_transaction)
                for source, text, in_transaction in items
            )
        )

    @property
    def statements(self) -> list[Statement]:
        return [s for block in self.blocks for s in block.statements]


@dataclass(frozen=True)
class VerifySettings:
    rows: int = 1_000_000
    load: LoadSettings = field(default_factory=LoadSettings)
    duration_s: float = 5.0  # the least time traffic runs in each run
    lead_s: float = 1.0  # traffic before the migration starts
    tail_s: float = 1.0  # traffic after it ends
    late_ms: float = 100.0  # a write slower than this is late
    timeout_s: float = 600.0  # the whole verify, set-up and seeding included
    allow_side_effects: bool = False


@dataclass(frozen=True)
class StatementRun:
    """When one statement of a script ran, in seconds since the run's traffic started."""

    label: str
    source: str  # file:line
    sql: str
    start_s: float
    end_s: float
    error: str | None = None

    @property
    def duration_ms(self) -> float:
        return (self.end_s - self.start_s) * 1000


@dataclass(frozen=True)
class RunMeasurement:
    """What one run measured: the writes and reads, lock waits and the script's timing."""

    name: str  # "control", "migration" or "fixed"
    writes: tuple[Op, ...]
    reads: tuple[Op, ...]
    lock_waits: LockWaits  # of the writers
    reader_lock_waits: LockWaits
    migration_lock_waits: LockWaits  # of the migration's own backend
    statements: tuple[StatementRun, ...]
    window_s: float  # how long traffic ran
    late_ms: float
    error: str | None = None  # the statement that failed, with its position

    @property
    def write_latencies(self) -> list[float]:
        return sorted(op.latency_ms for op in self.writes)

    @property
    def max_write_stall_ms(self) -> float:
        return max((op.latency_ms for op in self.writes), default=0.0)

    @property
    def p50_write_ms(self) -> float:
        return percentile(self.write_latencies, 50)

    @property
    def p99_write_ms(self) -> float:
        return percentile(self.write_latencies, 99)

    @property
    def late_writes(self) -> int:
        return sum(1 for op in self.writes if op.latency_ms > self.late_ms)

    @property
    def failed_writes(self) -> int:
        return sum(1 for op in self.writes if not op.ok)

    @property
    def max_read_ms(self) -> float:
        return max((op.latency_ms for op in self.reads), default=0.0)

    @property
    def failed_reads(self) -> int:
        return sum(1 for op in self.reads if not op.ok)

    @property
    def duration_ms(self) -> float:
        """The script's own duration, first statement start to last end (0 for control)."""
        if not self.statements:
            return 0.0
        return (self.statements[-1].end_s - self.statements[0].start_s) * 1000

    def errors(self) -> dict[str, int]:
        """Distinct write/read errors and how often each happened."""
        counts: dict[str, int] = {}
        for op in [*self.writes, *self.reads]:
            if op.error is not None:
                counts[op.error] = counts.get(op.error, 0) + 1
        return counts


@dataclass(frozen=True)
class VerifyResult:
    control: RunMeasurement
    migration: RunMeasurement
    fixed: RunMeasurement | None
    tables: tuple[str, ...]  # tables under traffic
    seeding: SeedReport
    server_version: int
    settings: VerifySettings
    notes: tuple[str, ...] = ()

    @property
    def gated(self) -> RunMeasurement:
        """The run whose stall decides the exit code: the fix when there is one."""
        return self.fixed if self.fixed is not None else self.migration

    @property
    def runs(self) -> list[RunMeasurement]:
        return [r for r in (self.control, self.migration, self.fixed) if r is not None]


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an ascending sequence (0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


Target = PgServer | str  # a server we started, or a user's DSN (scratch databases only)


def run_verify(
    target: Target,
    setup: Sequence[SetupItem],
    migration: Script,
    fixed: Script | None = None,
    settings: VerifySettings | None = None,
    progress: Progress | None = None,
) -> VerifyResult:
    """Seed, then measure the migration (and its fix) against a control run."""
    settings = settings or VerifySettings()
    say: Progress = progress or (lambda _what, _seconds: None)
    deadline = time.monotonic() + settings.timeout_s
    for name, script in (("migration", migration), ("fixed", fixed)):
        for block in script.blocks if script else ():
            for statement in block.statements:
                check_runnable(statement, block.source, settings.allow_side_effects)
        if script is not None and not script.statements:
            raise VerifyError(f"The {name} has no statements to run.")
    parsed_setup = [
        parse_setup(i, item, settings.allow_side_effects) for i, item in enumerate(setup)
    ]
    admin = target.dsn("postgres") if isinstance(target, PgServer) else target
    with ScratchDatabase(admin) as base:
        say("applying the set-up", None)
        tables, workloads, seeding, notes = _prepare(
            base, parsed_setup, [migration, *([fixed] if fixed else [])], settings, say, deadline
        )
        plan = [("migration", migration), *([("fixed", fixed)] if fixed else [])]
        measured: dict[str, RunMeasurement] = {}
        for name, script in plan:
            measured[name] = _clone_and_measure(
                admin, base, name, script, workloads, settings, 0.0, say, deadline
            )
        window = max(m.window_s for m in measured.values())
        control = _clone_and_measure(
            admin, base, "control", None, workloads, settings, window, say, deadline
        )
    return VerifyResult(
        control,
        measured["migration"],
        measured.get("fixed"),
        tuple(w.table for w in workloads),
        seeding,
        base.version,
        settings,
        tuple(notes),
    )


def _prepare(
    base: Database,
    setup: list[tuple[str, list[Statement]]],
    scripts: list[Script],
    settings: VerifySettings,
    say: Progress,
    deadline: float,
) -> tuple[list[int], list[TableWorkload], SeedReport, list[str]]:
    """Apply the set-up, seed and vacuum the touched tables, build their statements."""
    notes: list[str] = []
    with connect(base.dsn, "zdlint verify set-up", _remaining_ms(deadline)) as conn:
        for name, statements in setup:
            apply_setup(conn, name, statements)
        tables = touched_tables(conn, [s for script in scripts for s in script.statements])
        if not tables:
            tables = _all_tables(conn)
            if tables:
                notes.append(
                    "No existing table is named by the migration; traffic goes to every table."
                )
        if not tables:
            raise VerifyError(
                "There is no table to send traffic to: give the schema the migration "
                "changes with --setup (or run verify on a migrations folder)."
            )

        def seeding(table: str, position: int, count: int) -> None:
            say(f"seeding {table} with {settings.rows:,} rows ({position}/{count})", None)

        seeded = seed_tables(conn, settings.rows, tables, seeding)
        for table, why in seeded.skipped:
            notes.append(f"{table} was not seeded: {why}")
        for table in seeded.seeded:
            say(f"vacuuming {table}", None)
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.SQL(table)))
        workloads, problems = build_workloads(conn, tables, settings.rows)
        notes.extend(f"No traffic for {p}" for p in problems)
        if not workloads:
            raise VerifyError(
                "No table the migration touches can be written to: " + "; ".join(problems)
            )
    return tables, workloads, seeded, notes


_TOUCHED = """
SELECT coalesce(pg_partition_root(t.oid), t.oid)::int8 FROM (
  SELECT coalesce(i.indrelid, c.oid) AS oid FROM pg_class c
  LEFT JOIN pg_index i ON i.indexrelid = c.oid
  WHERE c.oid = to_regclass(%s)
) t JOIN pg_class r ON r.oid = t.oid WHERE r.relkind IN ('r', 'p')
"""


def touched_tables(conn: psycopg.Connection, statements: Sequence[Statement]) -> list[int]:
    """OIDs of the existing tables the statements name (an index counts as its table)."""
    found: list[int] = []
    for name in _relation_names(statements):
        row = conn.execute(_TOUCHED, (name,)).fetchone()
        if row is not None and row[0] not in found:
            found.append(row[0])
    return found


def _relation_names(statements: Sequence[Statement]) -> list[str]:
    names: list[str] = []

    def visit(value: object) -> None:
        if isinstance(value, ast.RangeVar) and value.relname:
            parts = [value.schemaname, value.relname] if value.schemaname else [value.relname]
            names.append(".".join(_quote(p) for p in parts))
        if isinstance(value, ast.DropStmt):
            for obj in value.objects or ():
                if isinstance(obj, (list, tuple)) and all(isinstance(p, ast.String) for p in obj):
                    names.append(".".join(_quote(p.sval) for p in obj))
        if isinstance(value, ast.Node):
            for attribute in value:
                visit(getattr(value, attribute, None))
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)

    for statement in statements:
        visit(statement.node)
    return names


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _all_tables(conn: psycopg.Connection) -> list[int]:
    rows = conn.execute(
        "SELECT c.oid::int8 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.oid >= 16384"
        " AND n.nspname NOT LIKE 'pg\\_%%' AND n.nspname <> 'information_schema' ORDER BY 1"
    )
    return [r[0] for r in rows]


def _clone_and_measure(
    admin: str,
    base: Database,
    name: str,
    script: Script | None,
    workloads: list[TableWorkload],
    settings: VerifySettings,
    window_s: float,
    say: Progress,
    deadline: float,
) -> RunMeasurement:
    say(f"{name}: cloning the seeded database", None)
    base_name = psycopg.conninfo.conninfo_to_dict(base.dsn)["dbname"]
    with ScratchDatabase(admin, template=str(base_name)) as clone:
        expected = max(settings.duration_s, window_s, settings.lead_s + settings.tail_s)
        say(f"{name} run", expected)
        return measure_run(clone.dsn, name, script, workloads, settings, window_s, deadline)


def measure_run(
    dsn: str,
    name: str,
    script: Script | None,
    workloads: Sequence[TableWorkload],
    settings: VerifySettings,
    window_s: float = 0.0,
    deadline: float | None = None,
) -> RunMeasurement:
    """Run traffic on `dsn`, apply `script` after the lead-in (none: control), measure."""
    deadline = deadline if deadline is not None else time.monotonic() + settings.timeout_s
    limit = _remaining_ms(deadline)
    with ExitStack() as stack:
        conn = stack.enter_context(connect(dsn, f"zdlint verify {name}", limit, limit))
        pid = conn.info.backend_pid
        load = stack.enter_context(
            running_load(dsn, workloads, settings.rows, settings.load, watch=[pid])
        )
        time.sleep(settings.lead_s)
        statements: list[StatementRun] = []
        error = None
        if script is not None:
            with _watchdog(conn, deadline):
                error = execute_script(conn, script, load.elapsed, statements)
            if time.monotonic() >= deadline:
                raise VerifyError(
                    f"The {name} did not finish within the {settings.timeout_s:g} s limit "
                    "(--timeout); it was cancelled."
                )
        stop_at = max(settings.duration_s, window_s, load.elapsed() + settings.tail_s)
        time.sleep(max(0.0, stop_at - load.elapsed()))
        load.stop(at=stop_at)
        return RunMeasurement(
            name=name,
            writes=tuple(load.writes),
            reads=tuple(load.reads),
            lock_waits=load.writer_lock_waits(),
            reader_lock_waits=load.reader_lock_waits(),
            migration_lock_waits=load.lock_waits_of(pid),
            statements=tuple(statements),
            window_s=stop_at,
            late_ms=settings.late_ms,
            error=error,
        )


def execute_script(
    conn: psycopg.Connection,
    script: Script,
    clock: Callable[[], float],
    record: list[StatementRun],
) -> str | None:
    """Run the script as its migration tool would; the first error (with position) or None.

    `conn` is in autocommit mode: a block run in a transaction gets BEGIN … COMMIT
    around it; otherwise each statement commits on its own, so CONCURRENTLY and CALL of
    a procedure that commits work. Explicit BEGIN/COMMIT in the text are honoured.
    """
    for block in script.blocks:
        if block.in_transaction:
            conn.execute("BEGIN")
        for statement in block.statements:
            where = f"{block.source}:{statement.span.line}"
            start = clock()
            try:
                conn.execute(statement.text)
            except psycopg.Error as exc:
                message = error_text(exc)
                record.append(
                    StatementRun(
                        label(statement.text), where, statement.text, start, clock(), message
                    )
                )
                if conn.info.transaction_status != TransactionStatus.IDLE:
                    conn.execute("ROLLBACK")
                return f"{where}:{statement.span.column}: {message}"
            record.append(
                StatementRun(label(statement.text), where, statement.text, start, clock())
            )
        if conn.info.transaction_status == TransactionStatus.INTRANS:
            start = clock()
            try:
                conn.execute("COMMIT")
            except psycopg.Error as exc:
                record.append(
                    StatementRun("COMMIT", block.source, "COMMIT", start, clock(), error_text(exc))
                )
                return f"{block.source}: COMMIT failed: {error_text(exc)}"
            record.append(StatementRun("COMMIT", block.source, "COMMIT", start, clock()))
    return None


def label(text: str, width: int = 60) -> str:
    """A statement on one line, shortened to `width` characters."""
    lines = [ln.split("--")[0].strip() for ln in text.splitlines()]
    one = " ".join(ln for ln in lines if ln).rstrip(";")
    return one if len(one) <= width else one[: width - 1] + "…"


@contextmanager
def _watchdog(conn: psycopg.Connection, deadline: float) -> Iterator[None]:
    """Cancel the statement running on `conn` when the deadline passes.

    The migration's own `SET statement_timeout = 0` would otherwise let it hang.
    """
    timer = threading.Timer(max(0.0, deadline - time.monotonic()), conn.cancel)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _remaining_ms(deadline: float) -> int:
    remaining = int((deadline - time.monotonic()) * 1000)
    if remaining <= 0:
        raise VerifyError("Verify ran out of time (--timeout) before it finished.")
    return remaining


FixEngine = Callable[[Path, str], list[tuple[Path, str]]]  # (path, text) → files it writes


def fixed_sql(path: Path, text: str) -> list[tuple[str, bool]]:
    """zdlint's fix of a migration as (SQL text, runs in a transaction) steps, in order.

    Each file the fix writes is one step, run the way its migration tool would run it
    (a file that must run outside a transaction says so with the tool's marker).
    Raises FixUnavailable when this build has no fix engine, VerifyError when the fix
    refuses the file or has nothing to change.
    """
    files = _fix_engine()(path, text)
    if not files:
        raise VerifyError(
            f"{path}: zdlint fix has nothing to change, so there is no fix to compare."
        )
    return [(body, file_runs_in_transaction(where, body)) for where, body in files]


def _fix_engine() -> FixEngine:
    """`zdlint fix` as a function, imported only when asked for."""
    try:
        from zdlint import config
        from zdlint.catalogue import load_catalogue
        from zdlint.fix.command import fix_options
        from zdlint.fix.fixer import FixRefused, fix_text
        from zdlint.lint import new_history
        from zdlint.sql.history import SchemaFileError
    except ImportError:
        raise FixUnavailable(
            "zdlint fix is not available in this build; give the fixed migration with --fixed FILE."
        ) from None

    def engine(path: Path, text: str) -> list[tuple[Path, str]]:
        catalogue = load_catalogue()
        try:
            settings = config.load_settings(config.find_config(path.parent), catalogue)
            options = fix_options(settings.fix, {})
            schema = new_history(settings).model_before(path)
            result = fix_text(str(path), path, text, settings, catalogue, options, schema)
        except (FixRefused, config.ConfigError, SchemaFileError, ValueError) as exc:
            raise VerifyError(f"zdlint fix could not fix {path}: {exc}") from None
        return [(output.path, output.text) for output in result.outputs]

    return engine
