"""Writers, readers and a lock monitor: the traffic verify keeps going during a migration.

Each writer and reader is a thread with its own connection, running an open loop: op `i`
is scheduled at `start + offset + i / rate` whatever happened before, and its latency is
measured from that scheduled time. A statement stuck behind a lock therefore shows up as
latency on every op scheduled while it waited, as an application's requests would.

The monitor reads `pg_stat_activity` every few milliseconds from its own connection and
records which of our backends wait for a lock: lock waits come from the server, not
from latency.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import psycopg

from zdlint.pg.workload import TableWorkload

MONITOR_INTERVAL = 0.01  # seconds between two pg_stat_activity samples
CONNECT_TIMEOUT = 10


@dataclass(frozen=True)
class LoadSettings:
    writers: int = 4
    readers: int = 1
    rate: float = 50.0  # ops per second per connection
    statement_timeout_ms: int = 2000  # on every writer and reader


@dataclass(frozen=True)
class Op:
    """One write or read: when it was due, how long after that it finished, and how."""

    at_s: float  # scheduled time, seconds since the load started
    latency_ms: float  # from the scheduled time to the end of the statement
    write: bool
    error: str | None = None  # SQLSTATE and first line of the error, when it failed

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class LockWaits:
    """What the monitor saw of a group of backends waiting for locks."""

    samples: int = 0  # samples in which at least one of them waited
    backend_samples: int = 0  # (sample, backend) pairs waiting
    backends: int = 0  # distinct backends seen waiting
    longest_ms: float = 0.0  # longest continuous wait of one backend, to a sample interval
    spans: tuple[tuple[float, float], ...] = ()  # (start_s, end_s) when any of them waited

    def as_dict(self) -> dict[str, object]:
        return {
            "samples": self.samples,
            "backend_samples": self.backend_samples,
            "backends": self.backends,
            "longest_ms": round(self.longest_ms, 1),
        }


class _Looper(threading.Thread):
    """One connection running its statements at a fixed rate until told to stop."""

    def __init__(
        self,
        conn: psycopg.Connection,
        statements: Sequence[tuple[str, bool]],  # (SQL with a row-number parameter, inserts)
        *,
        write: bool,
        rate: float,
        offset: float,
        rows: int,
        next_row: Iterator[int],
        seed: int,
    ) -> None:
        super().__init__(name="zdlint-verify-" + ("writer" if write else "reader"), daemon=True)
        self.conn = conn
        self.statements = statements
        self.write = write
        self.rate = rate
        self.offset = offset
        self.rows = rows
        self.next_row = next_row
        self.random = random.Random(seed)
        self.ops: list[Op] = []
        self.start_at = 0.0
        self.stop_at: float | None = None  # ops due at or after this are not issued
        self.abort = threading.Event()

    def run(self) -> None:
        for i in itertools.count():
            due = self.start_at + self.offset + i / self.rate
            stop_at = self.stop_at
            if self.abort.is_set() or (stop_at is not None and due >= stop_at):
                return
            delay = due - time.perf_counter()
            if delay > 0 and self.abort.wait(delay):
                return
            stop_at = self.stop_at  # may have been set while we slept
            if stop_at is not None and due >= stop_at:
                return
            statement, inserts = self.statements[i % len(self.statements)]
            row = next(self.next_row) if inserts else self.random.randint(1, self.rows)
            error = None
            try:
                self.conn.execute(statement, (row,))
            except psycopg.Error as exc:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                error = f"{exc.sqlstate}: {first}" if exc.sqlstate else first
            latency = (time.perf_counter() - due) * 1000
            self.ops.append(Op(due - self.start_at, latency, self.write, error))
            if self.conn.broken:
                return


def _schedule(workloads: Sequence[TableWorkload], write: bool) -> list[tuple[str, bool]]:
    """The statements a connection cycles through: tables in turn, INSERT then UPDATE."""
    statements: list[tuple[str, bool]] = []
    if not write:
        return [(w.read, False) for w in workloads]
    for kind in ("insert", "update"):
        for w in workloads:
            text = getattr(w, kind)
            if text is not None:
                statements.append((text, kind == "insert"))
    return statements


class _Monitor(threading.Thread):
    """Samples which of the given backends wait for a lock (`wait_event_type = 'Lock'`)."""

    def __init__(self, conn: psycopg.Connection, pids: Sequence[int]) -> None:
        super().__init__(name="zdlint-verify-monitor", daemon=True)
        self.conn = conn
        self.pids = list(pids)
        self.samples: list[tuple[float, frozenset[int]]] = []
        self.start_at = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        query = "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s) AND wait_event_type = 'Lock'"
        while not self.stop.is_set():
            at = time.perf_counter() - self.start_at
            try:
                waiting = frozenset(r[0] for r in self.conn.execute(query, (self.pids,)))
            except psycopg.Error:
                return
            self.samples.append((at, waiting))
            self.stop.wait(MONITOR_INTERVAL)

    def lock_waits(self, pids: Sequence[int]) -> LockWaits:
        return lock_waits(self.samples, frozenset(pids))


def lock_waits(samples: Sequence[tuple[float, frozenset[int]]], pids: frozenset[int]) -> LockWaits:
    """Summarise monitor samples for the backends `pids`.

    A backend's wait lasts from the first sample that saw it waiting to the first sample
    that did not (or the last sample), so a wait is known to one sampling interval.
    """
    seen: set[int] = set()
    waiting_since: dict[int, float] = {}
    longest = 0.0
    with_wait = backend_samples = 0
    spans: list[tuple[float, float]] = []
    span_start: float | None = None
    for at, waiting in samples:
        mine = waiting & pids
        if mine:
            with_wait += 1
            backend_samples += len(mine)
            seen |= mine
            if span_start is None:
                span_start = at
        elif span_start is not None:
            spans.append((span_start, at))
            span_start = None
        for pid in mine:
            waiting_since.setdefault(pid, at)
        for pid in [p for p in waiting_since if p not in mine]:
            longest = max(longest, at - waiting_since.pop(pid))
    if samples:
        end = samples[-1][0]
        for since in waiting_since.values():
            longest = max(longest, end - since)
        if span_start is not None:
            spans.append((span_start, end))
    return LockWaits(with_wait, backend_samples, len(seen), longest * 1000, tuple(spans))


@dataclass
class Load:
    """Running traffic; `stop()` ends it and returns what it measured."""

    writers: list[_Looper]
    readers: list[_Looper]
    monitor: _Monitor
    start_at: float

    def elapsed(self) -> float:
        return time.perf_counter() - self.start_at

    def stop(self, at: float | None = None) -> None:
        """Issue no op due after `at` (seconds since the start; now by default), then join."""
        stop_at = self.start_at + (self.elapsed() if at is None else at)
        loopers = [*self.writers, *self.readers]
        for looper in loopers:
            looper.stop_at = stop_at
        for looper in loopers:
            looper.join()
        self.monitor.stop.set()
        self.monitor.join()

    def abort(self) -> None:
        for looper in [*self.writers, *self.readers]:
            looper.abort.set()
        self.monitor.stop.set()

    @property
    def writes(self) -> list[Op]:
        return sorted((op for w in self.writers for op in w.ops), key=lambda op: op.at_s)

    @property
    def reads(self) -> list[Op]:
        return sorted((op for r in self.readers for op in r.ops), key=lambda op: op.at_s)

    def writer_lock_waits(self) -> LockWaits:
        return self.monitor.lock_waits([w.conn.info.backend_pid for w in self.writers])

    def reader_lock_waits(self) -> LockWaits:
        return self.monitor.lock_waits([r.conn.info.backend_pid for r in self.readers])

    def lock_waits_of(self, pid: int) -> LockWaits:
        return self.monitor.lock_waits([pid])


def connect(
    dsn: str, name: str, statement_timeout_ms: int, lock_timeout_ms: int = 0
) -> psycopg.Connection:
    """An autocommit connection with its timeouts set, named in pg_stat_activity."""
    conn = psycopg.connect(dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
    # Unprepared, so a migration that changes a table's row type fails no cached plan.
    conn.prepare_threshold = None
    conn.execute(
        "SELECT set_config('statement_timeout', %s, false), set_config('lock_timeout', %s, false),"
        " set_config('application_name', %s, false)",
        (str(statement_timeout_ms), str(lock_timeout_ms), name),
    )
    return conn


@contextmanager
def running_load(
    dsn: str,
    workloads: Sequence[TableWorkload],
    rows: int,
    settings: LoadSettings,
    watch: Sequence[int] = (),
) -> Iterator[Load]:
    """Connect, warm up, then start writers, readers and the monitor; always clean up.

    `watch` adds backends (the migration's) to the monitor's samples.
    """
    next_row = itertools.count(rows + 1)
    timeout = settings.statement_timeout_ms
    with ExitStack() as stack:
        writers = [
            _Looper(
                stack.enter_context(connect(dsn, f"zdlint verify writer {i + 1}", timeout)),
                _schedule(workloads, write=True),
                write=True,
                rate=settings.rate,
                offset=i / (settings.rate * max(settings.writers, 1)),
                rows=rows,
                next_row=next_row,
                seed=i,
            )
            for i in range(settings.writers)
        ]
        readers = [
            _Looper(
                stack.enter_context(connect(dsn, f"zdlint verify reader {i + 1}", timeout)),
                _schedule(workloads, write=False),
                write=False,
                rate=settings.rate,
                offset=(i + 0.5) / (settings.rate * max(settings.readers, 1)),
                rows=rows,
                next_row=next_row,
                seed=1000 + i,
            )
            for i in range(settings.readers)
        ]
        monitor_conn = stack.enter_context(connect(dsn, "zdlint verify monitor", timeout))
        for looper in [*writers, *readers]:
            _warm_up(looper, next_row)
        pids = [lp.conn.info.backend_pid for lp in [*writers, *readers]] + list(watch)
        monitor = _Monitor(monitor_conn, pids)
        start_at = time.perf_counter()
        monitor.start_at = start_at
        for looper in [*writers, *readers]:
            looper.start_at = start_at
        load = Load(writers, readers, monitor, start_at)
        monitor.start()
        for looper in [*writers, *readers]:
            looper.start()
        try:
            yield load
        finally:
            load.abort()
            for thread in [*writers, *readers, monitor]:
                thread.join(timeout=(timeout / 1000) + 5)


def _warm_up(looper: _Looper, next_row: Iterator[int]) -> None:
    """Run each statement once so plans and caches are ready before measuring."""
    for statement, inserts in looper.statements:
        row = next(next_row) if inserts else looper.random.randint(1, looper.rows)
        looper.conn.execute(statement, (row,))
