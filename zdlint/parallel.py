"""Check a large batch of files on several processes.

Only worth it for large batches: starting workers costs more than checking a few files.
Files are handed out by migration sequence (a folder's migrations stay together, in
order), so each worker replays a folder's schema history once, as a single process would.
Results come back keyed by their index, so the output order never depends on timing.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zdlint.catalogue import Catalogue
    from zdlint.config import Settings
    from zdlint.findings import FileReport
    from zdlint.lint import Job

from zdlint.sql.history import PER_FOLDER_NAMES

MIN_FILES = 200  # below this, one process is faster
MIN_CORES = 3
MAX_WORKERS = 8

# What the workers check; set before the pool forks, so it is inherited, not pickled.
_batch: tuple[list[Job], Settings, Catalogue] | None = None


def worker_count(files: int) -> int:
    """How many processes to use for `files` files (1: do not start a pool)."""
    # fork only (Linux): a spawned worker would import everything again.
    if files <= MIN_FILES or not sys.platform.startswith("linux"):
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    # The parent reads, keys and reports on its own core; with two cores, forking and
    # sending reports back cost more than the second worker gains (measured on the
    # corpus: 1.41 s with a pool, 1.15 s without).
    if (cores or 1) < MIN_CORES:
        return 1
    return max(1, min(cores or 1, MAX_WORKERS, files // MIN_FILES + 1))


def lint_in_processes(
    jobs: list[Job],
    indexes: list[int],
    settings: Settings,
    catalogue: Catalogue,
    workers: int,
) -> list[tuple[int, FileReport]]:
    """Check `jobs[i]` for i in `indexes` (in history order) on `workers` processes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _batch
    shares = _shares(jobs, indexes, workers)
    _batch = (jobs, settings, catalogue)
    try:
        # fork: the workers start with zdlint, pglast and the catalogue already loaded.
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=len(shares), mp_context=context) as pool:
            results = list(pool.map(_lint_share, shares))
    finally:
        _batch = None
    return [pair for share in results for pair in share]


def _shares(jobs: list[Job], indexes: list[int], workers: int) -> list[list[int]]:
    """Split `indexes` into at most `workers` lists of similar size in bytes, keeping each
    folder's files together and in order."""
    groups: dict[Path | None, list[int]] = {}
    for i in indexes:
        path = jobs[i].target.path
        groups.setdefault(path.resolve().parent if path is not None else None, []).append(i)
    # Per-folder layouts (`<name>/migration.sql`) share one history: keep them together.
    merged: dict[Path | None, list[int]] = {}
    for folder, members in groups.items():
        first = jobs[members[0]].target.path
        per_folder = first is not None and first.name in PER_FOLDER_NAMES
        home = folder.parent if folder is not None and per_folder else folder
        merged.setdefault(home, []).extend(members)
    loads = [0] * workers
    shares: list[list[int]] = [[] for _ in range(workers)]
    by_size = sorted(merged.values(), key=lambda g: -sum(len(jobs[i].data) for i in g))
    for group in by_size:
        smallest = loads.index(min(loads))
        shares[smallest].extend(group)
        loads[smallest] += sum(len(jobs[i].data) for i in group)
    order = {i: n for n, i in enumerate(indexes)}
    return [sorted(share, key=order.__getitem__) for share in shares if share]


def _lint_share(indexes: list[int]) -> list[tuple[int, FileReport]]:
    from zdlint.lint import lint_jobs, new_history

    assert _batch is not None
    jobs, settings, catalogue = _batch
    done = lint_jobs(jobs, indexes, settings, catalogue, new_history(settings))
    # Fix plans may hold objects that do not pickle; reports only need `fixable`.
    return [
        (i, dataclasses.replace(r, findings=tuple(_without_fix(f) for f in r.findings)))
        for i, r in done
    ]


def _without_fix(finding):  # type: ignore[no-untyped-def]
    return dataclasses.replace(finding, fix=None) if finding.fix is not None else finding
