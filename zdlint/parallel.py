"""Check a large batch of files on several processes.

Only worth it for large batches: forking and sending findings back cost more than
checking a few files. The batch, in history order, is cut into contiguous stretches of
similar cost, one per process; the parent checks the first stretch itself while forked
workers check the others. A stretch that starts inside a folder's migration sequence
first replays that folder's earlier files (parse and apply only, as a single process
would have), so every file sees the same schema as in a serial run. Results come back
keyed by their index, so the output order never depends on timing.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from zdlint.catalogue import Catalogue
    from zdlint.config import Settings
    from zdlint.findings import FileReport, Finding
    from zdlint.lint import Job, Prepare
    from zdlint.sql.history import History

from zdlint.sql.history import PER_FOLDER_NAMES

MIN_FILES = 200  # below this, one process is faster
MIN_CORES = 2
MAX_WORKERS = 8
# Cost model, in "statements": checking a file costs about as much as five statements of
# it (reading, tool detection, history, report), and replaying an earlier file of the
# folder (parse and apply) 0.7 of checking it: measured on the corpus, where the parent
# and its worker then finish within a few milliseconds of each other.
FILE_COST = 5
REPLAY_SHARE = 0.7


def worker_count(files: int) -> int:
    """How many processes to use for `files` files (1: do not start a pool)."""
    # fork only (Linux): a spawned worker would import everything again.
    if files <= MIN_FILES or not sys.platform.startswith("linux"):
        return 1
    cores = _cores()
    if cores < MIN_CORES:
        return 1
    return max(1, min(cores, MAX_WORKERS, files // MIN_FILES + 1))


R = TypeVar("R")


class WorkerFailed(Exception):
    """A worker process died or raised: the run cannot be trusted."""


def lint_in_processes(
    jobs: list[Job],
    indexes: list[int],
    settings: Settings,
    catalogue: Catalogue,
    history: History,
    workers: int,
    prepare: Prepare | None = None,
) -> list[tuple[int, FileReport]]:
    """Check `jobs[i]` for i in `indexes` (in history order) on `workers` processes."""
    # Loaded before the fork, so no worker imports the parser again.
    import zdlint.sql.engine  # noqa: F401
    from zdlint.lint import lint_jobs, new_history

    stretches = stretches_of(jobs, indexes, workers)
    if len(stretches) < 2:
        return lint_jobs(jobs, indexes, settings, catalogue, history, prepare)

    def work(stretch: list[int]) -> Callable[[], list[tuple[int, FileReport]]]:
        fresh = new_history(settings, release=history.release)
        return lambda: _portable(lint_jobs(jobs, stretch, settings, catalogue, fresh, prepare))

    first, *others = run_split(
        [lambda: lint_jobs(jobs, stretches[0], settings, catalogue, history, prepare)]
        + [work(stretch) for stretch in stretches[1:]]
    )
    return first + [
        (i, dataclasses.replace(r, text=_text(jobs[i]))) for done in others for i, r in done
    ]


def run_split(works: list[Callable[[], R]]) -> list[R]:
    """Run `works[0]` in this process and the others in forked workers, at once; what
    each returned, in order. The others' results must pickle."""
    # Objects that exist before the fork are never collected in a worker: a collection
    # there would write to (and so copy) every page of the parent's heap.
    gc.freeze()
    children: list[_Child] = []
    try:
        children = [_Child(work) for work in works[1:]]
        results = [works[0]()]
        results += [child.result() for child in children]
    finally:
        for child in children:
            child.stop()
        gc.unfreeze()
    return results


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


class _Child:
    """`work()` run in a forked process; `result()` waits for what it returned.

    Plain fork and a pipe: a process pool costs more to import and start than a batch
    of migrations takes to check on one core.
    """

    def __init__(self, work: Callable[[], object]) -> None:
        import pickle  # here: a run of a few files never forks

        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the caller's code
            status = 1
            try:
                os.close(read_end)
                try:
                    payload, status = pickle.dumps(work(), pickle.HIGHEST_PROTOCOL), 0
                except BaseException as exc:  # whatever it is, the parent reports it
                    payload = pickle.dumps(f"{type(exc).__name__}: {exc}")
                with open(write_end, "wb") as pipe:
                    pipe.write(payload)
            finally:
                os._exit(status)
        os.close(write_end)
        self.pid: int | None = pid
        self.pipe = open(read_end, "rb")  # closed by result() or stop()

    def result(self) -> Any:
        import pickle

        payload = self.pipe.read()
        self.pipe.close()
        assert self.pid is not None
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        code = os.waitstatus_to_exitcode(status)
        if code < 0:
            raise WorkerFailed(f"a worker process was killed by signal {-code}")
        if code != 0:
            raise WorkerFailed(f"a worker process failed: {pickle.loads(payload)}")
        return pickle.loads(payload)

    def stop(self) -> None:
        """Kill and reap the worker if its result was never taken (the run failed)."""
        if self.pid is None:
            return
        import signal

        self.pipe.close()
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        self.pid = None


def stretches_of(jobs: list[Job], indexes: list[int], workers: int) -> list[list[int]]:
    """Cut `indexes` (history order) into at most `workers` contiguous stretches whose
    costs, counting what each must replay before its first file, are as even as can be."""
    costs = [FILE_COST + jobs[i].data.count(b";") for i in indexes]
    prefix = [0]
    for cost in costs:
        prefix.append(prefix[-1] + cost)
    # where the migration sequence of each file begins, as a position in `indexes`
    sequence_start: list[int] = []
    previous: object = object()
    for n, i in enumerate(indexes):
        sequence = _sequence_of(jobs[i])
        fresh = sequence is None or sequence != previous
        sequence_start.append(n if fresh else sequence_start[-1])
        previous = sequence

    def cuts(limit: float) -> list[int]:
        """Where stretches begin when none may cost more than `limit` (if it can)."""
        starts, first = [], 0
        while first < len(costs):
            starts.append(first)
            replay = REPLAY_SHARE * (prefix[first] - prefix[sequence_start[first]])
            last = first + 1
            while last < len(costs) and replay + prefix[last + 1] - prefix[first] <= limit:
                last += 1
            first = last
        return starts

    low, high = float(max(costs, default=0)), float(prefix[-1])
    while high - low > 1:  # the least limit that needs no more than `workers` stretches
        middle = (low + high) / 2
        low, high = (low, middle) if len(cuts(middle)) <= workers else (middle, high)
    starts = cuts(high)
    return [indexes[a:b] for a, b in zip(starts, [*starts[1:], len(indexes)], strict=True)]


def _sequence_of(job: Job) -> Path | None:
    """The folder whose migrations replay before this file (None for stdin)."""
    path = job.target.path
    if path is None:
        return None
    folder = path.parent
    return folder.parent if path.name in PER_FOLDER_NAMES else folder


def _text(job: Job) -> str | None:
    """The text a report carries (as `lint_bytes` decoded it), None if undecodable."""
    from zdlint.source import UndecodableFile, decode

    try:
        return decode(job.data)
    except UndecodableFile:
        return None


def _portable(done: list[tuple[int, FileReport]]) -> list[tuple[int, FileReport]]:
    """Reports as a worker sends them: the parent has the text already, and fix plans
    may hold objects that do not pickle (reports only need `fixable`)."""
    return [
        (i, dataclasses.replace(r, findings=tuple(_without_fix(f) for f in r.findings), text=None))
        for i, r in done
    ]


def _without_fix(finding: Finding) -> Finding:
    return dataclasses.replace(finding, fix=None) if finding.fix is not None else finding
