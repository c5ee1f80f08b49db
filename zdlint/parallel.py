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
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zdlint.catalogue import Catalogue
    from zdlint.config import Settings
    from zdlint.findings import FileReport, Finding
    from zdlint.lint import Job
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

# What the workers check; set before the pool forks, so it is inherited, not pickled.
_batch: tuple[list[Job], Settings, Catalogue] | None = None


def worker_count(files: int) -> int:
    """How many processes to use for `files` files (1: do not start a pool)."""
    # fork only (Linux): a spawned worker would import everything again.
    if files <= MIN_FILES or not sys.platform.startswith("linux"):
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cores or 1) < MIN_CORES:
        return 1
    return max(1, min(cores or 1, MAX_WORKERS, files // MIN_FILES + 1))


def lint_in_processes(
    jobs: list[Job],
    indexes: list[int],
    settings: Settings,
    catalogue: Catalogue,
    history: History,
    workers: int,
) -> list[tuple[int, FileReport]]:
    """Check `jobs[i]` for i in `indexes` (in history order) on `workers` processes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Loaded before the fork, so no worker imports the parser again.
    import zdlint.sql.engine  # noqa: F401
    from zdlint.lint import lint_jobs

    global _batch
    stretches = stretches_of(jobs, indexes, workers)
    if len(stretches) < 2:
        return lint_jobs(jobs, indexes, settings, catalogue, history)
    _batch = (jobs, settings, catalogue)
    # Objects that exist before the fork are never collected in a worker: a collection
    # there would write to (and so copy) every page of the parent's heap.
    gc.freeze()
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=len(stretches) - 1, mp_context=context) as pool:
            futures = [pool.submit(_lint_stretch, s) for s in stretches[1:]]
            done = lint_jobs(jobs, stretches[0], settings, catalogue, history)
            for future in futures:
                done += [
                    (i, dataclasses.replace(r, text=_text(jobs[i]))) for i, r in future.result()
                ]
    finally:
        _batch = None
        gc.unfreeze()
    return done


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


def _lint_stretch(indexes: list[int]) -> list[tuple[int, FileReport]]:
    from zdlint.lint import lint_jobs, new_history

    assert _batch is not None
    jobs, settings, catalogue = _batch
    done = lint_jobs(jobs, indexes, settings, catalogue, new_history(settings))
    # The parent has the text already; fix plans may hold objects that do not pickle
    # (reports only need `fixable`).
    return [
        (i, dataclasses.replace(r, findings=tuple(_without_fix(f) for f in r.findings), text=None))
        for i, r in done
    ]


def _without_fix(finding: Finding) -> Finding:
    return dataclasses.replace(finding, fix=None) if finding.fix is not None else finding
