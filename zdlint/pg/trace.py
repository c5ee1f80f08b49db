"""Run a migration on a real server and record, per statement, what it did.

Set-up files are applied and committed, the tables that exist are seeded, then the
target runs statement by statement on one connection the way the migration tool would:
in one transaction (`in_transaction`) or one statement at a time, honouring explicit
BEGIN/COMMIT. For each statement we record the relation locks it added (read from this
backend's `pg_locks` before the transaction ends), rewrites (storage file changed),
sequential scans, its duration and the lock_timeout in effect.

Statements that cannot run inside a transaction block (CREATE INDEX CONCURRENTLY, …)
commit on their own; their locks are sampled from a second connection while they run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import psycopg
from pglast import ast
from psycopg.pq import TransactionStatus

from zdlint.locks import LockMode, lock_mode
from zdlint.pg import observe
from zdlint.pg.scratch import Database, ScratchDatabase, open_database
from zdlint.pg.seed import SeedReport, seed_tables
from zdlint.pg.server import PgServer
from zdlint.pg.side_effects import refuse_side_effects
from zdlint.source import SourceText
from zdlint.sql.locking import is_concurrent_reindex
from zdlint.sql.parse import Statement, parse_statements

SAMPLE_INTERVAL = 0.002  # seconds between two lock samples of a statement outside a transaction
# SQLSTATEs of "this cannot run inside a transaction block" and "… cannot commit here".
_OUTSIDE_ONLY = ("25001", "2D000")


class TraceError(Exception):
    """The trace could not run (bad set-up, refused statement); the message says where."""


@dataclass(frozen=True)
class LockTaken:
    relation: str
    mode: str  # pg_locks name, e.g. "AccessExclusiveLock"

    @property
    def lock(self) -> LockMode:
        return lock_mode(self.mode)


@dataclass(frozen=True)
class StatementTrace:
    """What one statement did on the server."""

    line: int
    column: int
    sql: str
    locks: tuple[LockTaken, ...]  # added or strengthened by this statement
    rewrites: tuple[str, ...]
    scans: tuple[str, ...]
    duration_ms: float
    lock_timeout_ms: int | None  # None when it could not be read (failed transaction)
    in_transaction: bool  # ran inside a transaction block
    sampled: bool = False  # ran on its own; locks sampled from a second connection
    error: str | None = None
    notes: tuple[str, ...] = ()

    def strongest_lock(self, relation: str | None = None) -> LockTaken | None:
        """The strongest lock taken (on `relation`, when given)."""
        locks = [lk for lk in self.locks if relation is None or lk.relation == relation]
        return max(locks, key=lambda lk: lk.lock.strength, default=None)


@dataclass(frozen=True)
class Trace:
    statements: tuple[StatementTrace, ...]
    seeding: SeedReport
    server_version: int
    existing: frozenset[str] = frozenset()  # tables present when the target started
    notes: tuple[str, ...] = ()

    @property
    def failed(self) -> StatementTrace | None:
        return next((s for s in self.statements if s.error is not None), None)


SetupItem = str | tuple[str, str]  # SQL text, or (file name, SQL text)
Target = PgServer | Database | str


def trace_statements(
    server_or_dsn: Target,
    setup_sql: Sequence[SetupItem],
    statements: str | Sequence[Statement],
    in_transaction: bool = True,
    seed_rows: int = 0,
    *,
    allow_side_effects: bool = False,
) -> list[StatementTrace]:
    """Trace `statements` after `setup_sql`; see `run_trace`."""
    return list(
        run_trace(
            server_or_dsn,
            setup_sql,
            statements,
            in_transaction=in_transaction,
            seed_rows=seed_rows,
            allow_side_effects=allow_side_effects,
        ).statements
    )


DEFAULT_STATEMENT_LIMIT = 300.0  # seconds; a stuck statement cannot hang a CI job


class _Watchdog:
    """Cancels the statement running on `conn` once it has run `seconds`."""

    def __init__(self, conn: psycopg.Connection, seconds: float) -> None:
        self.conn, self.seconds, self.fired = conn, seconds, False

    def _cancel(self) -> None:
        self.fired = True
        self.conn.cancel()

    @contextmanager
    def guard(self) -> Iterator[None]:
        timer = threading.Timer(self.seconds, self._cancel)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()

    def explain(self, message: str) -> str:
        if not self.fired:
            return message
        self.fired = False
        return f"stopped by zdlint after {self.seconds:g} s (--timeout): {message}"


def run_trace(
    target: Target,
    setup_sql: Sequence[SetupItem],
    statements: str | Sequence[Statement],
    *,
    in_transaction: bool = True,
    seed_rows: int = 0,
    allow_side_effects: bool = False,
    name: str = "",
    statement_limit: float = DEFAULT_STATEMENT_LIMIT,
) -> Trace:
    """Apply the set-up, seed the tables, then trace each statement of the target.

    `target` is a server we started (a scratch database is created in it), a `Database`
    to use as it is, or a user's DSN (a scratch database is created there and dropped).
    Statements that reach outside the database raise TraceError unless allowed; a
    statement that fails ends the trace and carries its error. `name` (the target's file
    name) prefixes positions in error messages. A statement that runs longer than
    `statement_limit` seconds is cancelled and reported as failed.
    """
    if isinstance(statements, str):
        statements = parse_statements(SourceText(statements))
    for statement in statements:
        check_runnable(statement, name, allow_side_effects)
    setup = [parse_setup(i, item, allow_side_effects) for i, item in enumerate(setup_sql)]
    with _database(target) as database, _connect(database.dsn) as conn:
        watchdog = _Watchdog(conn, statement_limit)
        for name, setup_statements in setup:
            with watchdog.guard():
                apply_setup(conn, name, setup_statements)
        seeding = seed_tables(conn, seed_rows)
        start = observe.relations(conn)
        existing = frozenset(start.names[oid] for oid in start.tables)
        tracer = _Tracer(conn, database.dsn, watchdog)
        traces = tracer.run(statements, in_transaction)
        return Trace(tuple(traces), seeding, database.version, existing, tuple(tracer.notes))


@contextmanager
def _database(target: Target) -> Iterator[Database]:
    if isinstance(target, Database):
        yield target
    elif isinstance(target, PgServer):
        with ScratchDatabase(target.dsn("postgres")) as database:
            yield database
    else:
        with open_database(target) as database:
            yield database


def _connect(dsn: str) -> psycopg.Connection:
    conn = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
    conn.prepare_threshold = None  # every statement is sent as written
    return conn


def parse_setup(
    index: int, item: SetupItem, allow_side_effects: bool
) -> tuple[str, list[Statement]]:
    """A set-up item's name and statements, each checked with `check_runnable`."""
    name, text = item if isinstance(item, tuple) else (f"set-up #{index + 1}", item)
    statements = parse_statements(SourceText(text))
    for statement in statements:
        check_runnable(statement, name, allow_side_effects)
    return name, statements


def check_runnable(statement: Statement, where: str, allow_side_effects: bool) -> None:
    """Raise TraceError, naming `where`, for a statement zdlint must not or cannot run."""
    place = (
        f"{where}:{statement.span.line}:{statement.span.column}"
        if where
        else (f"line {statement.span.line}")
    )
    if statement.node is None:
        raise TraceError(f"{place}: syntax error: {statement.error}")
    if isinstance(statement.node, ast.CopyStmt) and statement.node.filename is None:
        if statement.node.is_from:
            raise TraceError(f"{place}: COPY … FROM STDIN cannot be traced (no data to send).")
    try:
        refuse_side_effects(statement.node, allow_side_effects)
    except Exception as exc:
        raise TraceError(f"{place}: {exc}") from None


def apply_setup(conn: psycopg.Connection, name: str, statements: list[Statement]) -> None:
    """Run a set-up file statement by statement and commit whatever it left open."""
    try:
        for statement in statements:
            try:
                conn.execute(statement.text)
            except psycopg.Error as exc:
                raise TraceError(
                    f"{name}:{statement.span.line}:{statement.span.column}: set-up statement "
                    f"failed: {error_text(exc)}"
                ) from None
    finally:
        if conn.info.transaction_status == TransactionStatus.INTRANS:
            conn.execute("COMMIT")
        elif conn.info.transaction_status == TransactionStatus.INERROR:
            conn.execute("ROLLBACK")


def error_text(exc: psycopg.Error) -> str:
    """The first line of a server error with its SQLSTATE."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{first} (SQLSTATE {exc.sqlstate})" if exc.sqlstate else first


def runs_outside_transaction(node: ast.Node | None) -> bool:
    """Statements Postgres refuses inside a transaction block."""
    if isinstance(node, (ast.IndexStmt, ast.DropStmt)):
        return bool(node.concurrent)
    if isinstance(node, ast.ReindexStmt):
        return is_concurrent_reindex(node)  # `(CONCURRENTLY false)` runs in a transaction
    if isinstance(node, ast.VacuumStmt):
        return bool(node.is_vacuumcmd)
    if isinstance(node, (ast.CreatedbStmt, ast.DropdbStmt, ast.AlterSystemStmt)):
        return True
    if isinstance(node, ast.AlterTableStmt):
        return any(
            isinstance(cmd.def_, ast.PartitionCmd) and cmd.def_.concurrent
            for cmd in node.cmds or ()
            if isinstance(cmd, ast.AlterTableCmd)
        )
    return False


@dataclass
class _Tracer:
    conn: psycopg.Connection
    dsn: str
    watchdog: _Watchdog
    held: set[observe.LockKey] = field(default_factory=set)
    names: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    _notices: list[str] = field(default_factory=list)

    def run(self, statements: Sequence[Statement], in_transaction: bool) -> list[StatementTrace]:
        self.conn.add_notice_handler(
            lambda d: self._notices.append(f"{d.severity}: {d.message_primary}")
        )
        traces: list[StatementTrace] = []
        if in_transaction and statements:
            self.conn.execute("BEGIN")
        for statement in statements:
            self._notices.clear()
            trace = self.trace(statement)
            traces.append(trace)
            if trace.error is not None:
                break
        status = self.conn.info.transaction_status
        if status == TransactionStatus.INTRANS:
            self.conn.execute("COMMIT")
            if not in_transaction:
                self.notes.append("The file left a transaction open; it was committed.")
        elif status == TransactionStatus.INERROR:
            self.conn.execute("ROLLBACK")
        return traces

    def trace(self, statement: Statement) -> StatementTrace:
        node = statement.node
        if self.conn.info.transaction_status != TransactionStatus.IDLE or isinstance(
            node, ast.TransactionStmt
        ):
            return self._in_transaction(statement)
        if runs_outside_transaction(node):
            return self._sampled(statement)
        self.conn.execute("BEGIN")
        trace = self._in_transaction(statement, wrapped=True)
        if trace.error is None:
            self.conn.execute("COMMIT")
            return trace
        self.conn.execute("ROLLBACK")
        if trace.error.endswith(tuple(f"(SQLSTATE {code})" for code in _OUTSIDE_ONLY)):
            return self._sampled(statement)
        return trace

    def _in_transaction(self, statement: Statement, wrapped: bool = False) -> StatementTrace:
        """Run a statement on the traced connection and read what it holds before COMMIT."""
        conn = self.conn
        in_block = conn.info.transaction_status != TransactionStatus.IDLE
        before = observe.relations(conn)
        scans_before = observe.transaction_scans(conn) if in_block else {}
        held_before = set(self.held) if not wrapped else set()
        start = time.perf_counter()
        try:
            with self.watchdog.guard():
                conn.execute(statement.text)
        except psycopg.Error as exc:
            duration = (time.perf_counter() - start) * 1000
            self.held = set()
            error = self.watchdog.explain(error_text(exc))
            return self._record(statement, in_block, duration, error=error)
        duration = (time.perf_counter() - start) * 1000
        if conn.info.transaction_status == TransactionStatus.IDLE:
            # A COMMIT/ROLLBACK (or a statement that ended the block): nothing is held now.
            self.held = set()
            return self._record(statement, in_block, duration, before=before)
        after = observe.relations(conn)
        held_now = observe.held_locks(conn)
        scans_after = observe.transaction_scans(conn)
        self.held = held_now if not wrapped else set()
        return self._record(
            statement,
            True,
            duration,
            locks=held_now - held_before,
            before=before,
            after=after,
            scanned=observe.scanned(scans_before, scans_after) if in_block else [],
        )

    def _sampled(self, statement: Statement) -> StatementTrace:
        """Run a statement outside any transaction; sample its locks from another backend."""
        conn = self.conn
        before = observe.relations(conn)
        scans_before = observe.shared_scans(conn)
        pid = conn.info.backend_pid
        outcome: dict[str, object] = {}

        def run() -> None:
            start = time.perf_counter()
            try:
                with self.watchdog.guard():
                    conn.execute(statement.text)
            except psycopg.Error as exc:
                outcome["error"] = self.watchdog.explain(error_text(exc))
            outcome["duration"] = (time.perf_counter() - start) * 1000

        with ExitStack() as stack:
            sampler = stack.enter_context(_connect(self.dsn))
            holder = stack.enter_context(_connect(self.dsn))
            _hold(holder, before)
            worker = threading.Thread(target=run, name="zdlint-trace-statement")
            worker.start()
            samples: set[observe.LockKey] = set()
            sample_names: dict[int, str] = {}
            holding = True

            def sample() -> None:
                rows = sampler.execute(_SAMPLE, (pid, observe.FIRST_USER_OID)).fetchall()
                for oid, name, mode in rows:
                    samples.add((oid, mode))
                    sample_names.setdefault(oid, name)

            while True:
                done = not worker.is_alive()
                sample()
                if done:
                    break
                if holding and _waits_for(sampler, pid, holder.info.backend_pid):
                    # it may have taken its lock just after the sample above: look again
                    # while it is certainly paused, then let it go
                    sample()
                    holder.execute("COMMIT")
                    holding = False
                time.sleep(SAMPLE_INTERVAL)
            worker.join()
            if holding:
                holder.execute("COMMIT")
        after = observe.relations(conn)
        scans_after = observe.shared_scans(conn) if scans_before is not None else None
        self.held = set()
        notes = []
        if not samples and "error" not in outcome:
            notes.append("No lock was seen: the statement finished between two samples.")
        if scans_before is None or scans_after is None:
            notes.append("Scans of statements outside a transaction need PostgreSQL 15+.")
        self.names.update(sample_names)
        return self._record(
            statement,
            False,
            float(outcome.get("duration", 0.0)),  # type: ignore[arg-type]
            locks=samples,
            before=before,
            after=after,
            scanned=observe.scanned(scans_before, scans_after)
            if scans_before is not None and scans_after is not None
            else [],
            sampled=True,
            error=outcome.get("error"),  # type: ignore[arg-type]
            notes=notes,
        )

    def _record(
        self,
        statement: Statement,
        in_transaction: bool,
        duration: float,
        *,
        locks: set[observe.LockKey] = frozenset(),  # type: ignore[assignment]
        before: observe.Relations | None = None,
        after: observe.Relations | None = None,
        scanned: Sequence[int] = (),
        sampled: bool = False,
        error: str | None = None,
        notes: Sequence[str] = (),
    ) -> StatementTrace:
        snapshots = [s for s in (after, before) if s is not None]
        for snapshot in snapshots:
            self.names.update(snapshot.names)

        def name(oid: int) -> str:
            return self.names.get(oid, str(oid))

        # Relations this statement created (a new index, the transient heap of a rewrite)
        # are left out: nobody else can be waiting for them.
        existed = before.names if before is not None else {}
        taken = sorted(
            {LockTaken(name(oid), mode) for oid, mode in locks if oid in existed},
            key=lambda lk: (lk.relation, -lk.lock.strength),
        )
        rewrites = observe.rewritten(before, after) if before and after else []
        timeout = None
        if self.conn.info.transaction_status != TransactionStatus.INERROR:
            timeout = observe.lock_timeout_ms(self.conn)
        return StatementTrace(
            line=statement.span.line,
            column=statement.span.column,
            sql=statement.text,
            locks=tuple(taken),
            rewrites=tuple(sorted(name(oid) for oid in rewrites)),
            scans=tuple(sorted(name(oid) for oid in scanned)),
            duration_ms=round(duration, 3),
            lock_timeout_ms=timeout,
            in_transaction=in_transaction,
            sampled=sampled,
            error=error,
            notes=tuple(notes) + tuple(self._notices),
        )


_SAMPLE = """
SELECT relation::int8, relation::regclass::text, mode FROM pg_locks
WHERE locktype = 'relation' AND pid = %s AND relation >= %s
  AND relation::regclass::text NOT LIKE 'pg\\_toast.%%'
"""


def _hold(holder: psycopg.Connection, relations: observe.Relations) -> None:
    """Make the statement pause where it waits for others, so a sample is sure to see it.

    The holder keeps an open snapshot (CONCURRENTLY builds wait for older snapshots) and
    ACCESS SHARE on every table (DROP INDEX CONCURRENTLY waits for lockers; an ACCESS
    EXCLUSIVE request queues behind it). The statement holds its locks while it waits;
    the sampler records them, then releases the holder.
    """
    holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    holder.execute("SELECT 1")
    tables = [relations.names[oid] for oid in sorted(relations.tables)]
    if tables:
        holder.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS SHARE MODE")


def _waits_for(sampler: psycopg.Connection, pid: int, holder_pid: int) -> bool:
    row = sampler.execute("SELECT %s = ANY(pg_blocking_pids(%s))", (holder_pid, pid)).fetchone()
    return bool(row and row[0])
