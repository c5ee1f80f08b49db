"""Check files: read, decode, dispatch by kind, apply suppressions and config."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from zdlint.cache import FindingsCache, digest
from zdlint.catalogue import Catalogue
from zdlint.config import Settings, enabled_codes, is_excluded
from zdlint.discover import (
    K8S,
    K8S_JSON,
    PYTHON,
    STDIN,
    DiscoveryError,
    OnSkip,
    Target,
    discover,
    is_json_manifest,
    kind_of_name,
    kind_of_text,
)
from zdlint.findings import FileReport, Finding, Hit
from zdlint.source import SourceText, UndecodableFile, decode

if TYPE_CHECKING:
    from zdlint.sql.history import History

# What a reporter does to each file's report ahead of rendering (see `lint_paths`)
Prepare = Callable[[FileReport], FileReport]

INVALID_ENCODING = "ZD003"
# Who reads the file as UTF-8, for ZD003's help: a manifest is never SQL text.
_SQL_READER = "PostgreSQL clients send migrations as UTF-8"
_MANIFEST_READER = "YAML parsers and the Kubernetes API read manifests as UTF-8"
UNUSED_SUPPRESSION = "ZD002"
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass
class LintRun:
    reports: list[FileReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # usage / IO errors: exit code 2
    notes: list[str] = field(default_factory=list)  # what was skipped, and why


def lint_paths(
    arguments: list[str],
    settings: Settings,
    catalogue: Catalogue,
    stdin_name: str | None = None,
    read_stdin: Callable[[], bytes] | None = None,
    only: set[Path] | None = None,
    release: frozenset[Path] = frozenset(),
    cache: FindingsCache | None = None,
    parallel: bool = False,
    prepare: Prepare | None = None,
    on_skip: OnSkip | None = None,
    render: bool = False,
) -> LintRun:
    """Check every target; with `only`, report just those files (history still counts,
    and so do the other manifests of the run). `release`: the migrations (resolved paths)
    of the release checked, usually the files added on a branch: what they create is new
    to the running version.

    With `cache`, files whose inputs are unchanged take their findings from it. With
    `parallel`, a large batch is spread over processes (findings without fix plans).
    `prepare` is applied to each report where it is made, so a reporter's per-file work
    is spread too. Reports come in the order of the targets either way. `on_skip`
    hears of the files left out because they are for another database. With `render`,
    a folder holding a kustomization or a Helm chart is checked as rendered.

    Kubernetes manifests are checked together: every manifest of the run is one deploy
    scope (cut by kustomizations), so a Service sees the Deployment in another file.
    """
    from zdlint.sql.tools import remembered_files

    with remembered_files():
        return _lint_paths(
            arguments,
            settings,
            catalogue,
            stdin_name,
            read_stdin,
            only,
            release,
            cache,
            parallel,
            prepare,
            on_skip,
            render,
        )


def _lint_paths(
    arguments: list[str],
    settings: Settings,
    catalogue: Catalogue,
    stdin_name: str | None,
    read_stdin: Callable[[], bytes] | None,
    only: set[Path] | None,
    release: frozenset[Path],
    cache: FindingsCache | None,
    parallel: bool,
    prepare: Prepare | None,
    on_skip: OnSkip | None,
    render: bool,
) -> LintRun:
    from zdlint.sql.history import SchemaFileError

    run = LintRun()
    try:
        history = new_history(settings, snapshots=cache is not None, release=release)
    except SchemaFileError as exc:
        run.errors.append(str(exc))
        return run
    jobs: list[Job] = []
    if render:
        arguments = _render_folders(arguments, jobs, run)
    # Manifests outside `only` are read all the same: they are context for the others.
    context: set[int] = set()
    for target in discover(
        arguments, lambda p: is_excluded(p, settings), on_skip, settings.force_exclude
    ):
        if isinstance(target, DiscoveryError):
            run.errors.append(str(target))
            continue
        outside = only is not None and (target.path is None or target.path.resolve() not in only)
        if outside and target.kind not in (K8S, K8S_JSON):
            continue
        try:
            data = _read(target, read_stdin)
        except OSError as exc:
            if not outside:
                run.errors.append(f"{target.display}: cannot read the file: {exc.strerror or exc}")
            continue
        if target.kind == K8S_JSON:
            if not _is_json_manifest(data):
                if on_skip is not None and target.path is not None and not outside:
                    on_skip(target.path, "a JSON file that is not a Kubernetes manifest", True)
                continue
            target = replace(target, kind=K8S)
        if outside:
            context.add(len(jobs))
        display = stdin_name or STDIN if target.path is None else target.display
        jobs.append(Job(display, target, data))

    reports: list[FileReport | None] = [None] * len(jobs)
    keys: list[str | None] = [None] * len(jobs)
    manifests = [i for i, job in enumerate(jobs) if _job_kind(job) == K8S]
    if cache is not None:
        keys = CacheKeys(cache, settings, history, jobs, manifests).all()
        for i, key in enumerate(keys):
            findings = cache.get(key) if key is not None else None
            if findings is not None:
                report = FileReport(jobs[i].display, findings, decode(jobs[i].data))
                reports[i] = prepare(report) if prepare is not None else report
    # The manifests are checked together, so all of them again when any is not cached
    # (their keys cover every manifest of the run, so they change together).
    if any(reports[i] is None for i in manifests):
        for i, report in lint_manifest_jobs(jobs, manifests, settings, catalogue, run, prepare):
            reports[i] = report
            key = keys[i]
            if cache is not None and key is not None:
                cache.put(key, report.findings)
    # In history order, so the schema model of each folder advances and is never rebuilt.
    misses = sorted(
        (i for i, r in enumerate(reports) if r is None),
        key=lambda i: _history_order(jobs[i], history),
    )
    if misses:
        from zdlint.parallel import lint_in_processes, worker_count

        workers = worker_count(len(misses)) if parallel else 1
        if workers > 1:
            done = lint_in_processes(jobs, misses, settings, catalogue, history, workers, prepare)
        else:
            done = lint_jobs(jobs, misses, settings, catalogue, history, prepare)
        for i, report in done:
            reports[i] = report
            key = keys[i]
            if cache is not None and key is not None:
                cache.put(key, report.findings)
    run.reports.extend(r for i, r in enumerate(reports) if r is not None and i not in context)
    return run


def _render_folders(arguments: list[str], jobs: list[Job], run: LintRun) -> list[str]:
    """The arguments left to discover once every folder that renders (a kustomization,
    a Helm chart) is a job of its rendered text; a folder that cannot be rendered stays,
    with a note saying why."""
    from zdlint.k8s.render import Rendered, render_folder

    left = []
    for argument in arguments:
        rendered = render_folder(Path(argument)) if os.path.isdir(argument) else None
        if isinstance(rendered, Rendered):
            target = Target(rendered.display, None, K8S)
            jobs.append(Job(rendered.display, target, rendered.text.encode("utf-8")))
            continue
        if rendered is not None:
            run.notes.append(rendered.reason)
        left.append(argument)
    return left


def _is_json_manifest(data: bytes) -> bool:
    try:
        return is_json_manifest(decode(data))
    except UndecodableFile:
        return False


def _job_kind(job: Job) -> str | None:
    """SQL or K8S, as `lint_bytes` will decide; None when the bytes do not decode."""
    if job.target.kind is not None:
        return job.target.kind
    try:
        return kind_of_text(decode(job.data))
    except UndecodableFile:
        return None


def lint_manifest_jobs(
    jobs: list[Job],
    indexes: list[int],
    settings: Settings,
    catalogue: Catalogue,
    run: LintRun,
    prepare: Prepare | None = None,
) -> list[tuple[int, FileReport]]:
    """Check the manifests `jobs[i]` for i in `indexes` together, as one run."""
    try:
        from zdlint.k8s.engine import ManifestFile, lint_manifest_files
    except ImportError:  # the Kubernetes checker is not part of this build
        return []
    files = []
    for i in indexes:
        job = jobs[i]
        path = job.target.path
        enabled = enabled_codes(settings, catalogue, str(path) if path else None)
        files.append(ManifestFile(job.display, decode(job.data), path, enabled))

    def note(text: str) -> None:
        if text not in run.notes:
            run.notes.append(text)

    done = []
    for i, f, findings in zip(
        indexes, files, lint_manifest_files(files, settings, catalogue, note), strict=True
    ):
        findings.sort(key=lambda finding: finding.sort_key)
        report = FileReport(f.display, tuple(findings), f.text)
        done.append((i, prepare(report) if prepare is not None else report))
    return done


def _history_order(job: Job, history: History) -> tuple[bool, tuple[str, ...]]:
    """stdin first, then files by resolved path (the history memoises resolving). Paths
    order as their parts do; comparing the tuples is what `Path.__lt__` does, faster."""
    path = job.target.path
    return (path is not None, history.resolve(path).parts if path is not None else ())


@dataclass(frozen=True)
class Job:
    """One file to check: its name for reports, where it is, and its bytes."""

    display: str
    target: Target
    data: bytes


def lint_jobs(
    jobs: list[Job],
    indexes: list[int],
    settings: Settings,
    catalogue: Catalogue,
    history: History | None,
    prepare: Prepare | None = None,
) -> list[tuple[int, FileReport]]:
    """Check `jobs[i]` for each i in `indexes`, in that order."""
    from zdlint.sql.parse import unchecked_tree_building

    done = []
    with unchecked_tree_building():  # once for the batch: see its docstring
        for i in indexes:
            job = jobs[i]
            report = lint_bytes(job.display, job.target, job.data, settings, catalogue, history)
            done.append((i, prepare(report) if prepare is not None else report))
    return done


class CacheKeys:
    """Cache keys of a run's files: their bytes, layout and schema history."""

    def __init__(
        self,
        cache: FindingsCache,
        settings: Settings,
        history: History,
        jobs: list[Job],
        manifests: list[int],
    ) -> None:
        self.cache, self.settings, self.history, self.jobs = cache, settings, history, jobs
        # A manifest's findings depend on every manifest of the run.
        self.manifests = digest(*(part for i in manifests for part in _job_parts(jobs[i])))
        for job in jobs:  # the history digests these files without reading them again
            if job.target.path is not None:
                history.contents[history.resolve(job.target.path)] = digest(job.data)

    def all(self) -> list[str | None]:
        return [self.key(job) for job in self.jobs]

    def key(self, job: Job) -> str | None:
        """None when the file is not worth caching (it cannot even be decoded)."""
        from zdlint.sql.placeholders import substitute_placeholders
        from zdlint.sql.tools import detect_tool

        try:
            text = decode(job.data)
        except UndecodableFile:
            return None
        target = job.target
        kind = target.kind or kind_of_text(text)
        if kind == PYTHON:  # rendered with the whole project: not cached
            return None
        path = target.path
        parts: list[bytes | str] = [job.display, str(path), kind, job.data]
        if kind == K8S:
            parts.append(self.manifests)
        else:
            checked = substitute_placeholders(text) if self.settings.templates else text
            # sees files beside `path`
            parts.append(repr(detect_tool(path, checked, self.settings.tool_for(path))))
            if path is not None and self.settings.history:
                parts.append(self.history.prefix_digest(path))
        return self.cache.key(*parts)


def _job_parts(job: Job) -> tuple[str, str, bytes]:
    return (job.display, str(job.target.path), job.data)


def new_history(
    settings: Settings, snapshots: bool = False, release: frozenset[Path] = frozenset()
) -> History:
    """Replays earlier migrations (and the `schema` file) so rules see the real schema;
    with `snapshots`, long replays are kept in (and taken from) the cache. `release`:
    the migrations of the release checked (resolved paths)."""
    from zdlint.sql.history import History, load_schema_file

    seed = load_schema_file(settings.schema) if settings.schema else None
    store = None
    if snapshots:
        from zdlint.sql.snapshots import SchemaSnapshots

        store = SchemaSnapshots.open(seed, settings.templates, settings.tools)
    return History(
        seed=seed,
        enabled=settings.history,
        templates=settings.templates,
        snapshots=store,
        tool_for=settings.tool_for if settings.tools else None,
        release=release,
    )


def _read(target: Target, read_stdin: Callable[[], bytes] | None) -> bytes:
    if target.path is None:
        return (read_stdin or sys.stdin.buffer.read)()
    # non-blocking: opening a FIFO must not wait for a writer; then only regular files
    # are read (a FIFO or a device would block or never end)
    descriptor = os.open(target.path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        mode = os.fstat(descriptor)
        if stat.S_ISDIR(mode.st_mode):
            raise IsADirectoryError(21, "it is a directory")
        if not stat.S_ISREG(mode.st_mode):
            raise OSError(22, "not a regular file")
        # asking for the size the file has (not the limit) spares a 64 MiB buffer per file
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(descriptor, min(mode.st_size + 1, MAX_FILE_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(descriptor)
    if size > MAX_FILE_BYTES:
        raise OSError(27, f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    return b"".join(chunks)


def lint_bytes(
    display: str,
    target: Target,
    data: bytes,
    settings: Settings,
    catalogue: Catalogue,
    history: History | None = None,
) -> FileReport:
    """Findings for one file's bytes; never raises for bad content."""
    enabled = enabled_codes(settings, catalogue, str(target.path) if target.path else None)
    try:
        text = decode(data)
    except UndecodableFile as exc:
        rule = catalogue.get(INVALID_ENCODING)
        if rule is None or rule.code not in enabled:
            return FileReport(display, ())
        position = data[: exc.offset].decode("utf-8", "replace")
        source = SourceText(position)
        end = len(position)
        from zdlint.finding_factory import make_finding

        manifest = (target.kind or kind_of_name(Path(display))) in (K8S, K8S_JSON)
        fields: dict[str, object] = {"error": str(exc)}
        fields["reader"] = _MANIFEST_READER if manifest else _SQL_READER
        finding = make_finding(rule, display, source, end, end + 1, Hit(fields))
        return FileReport(display, (finding,))
    kind = target.kind or kind_of_text(text)
    if kind == K8S_JSON and not is_json_manifest(text):
        return FileReport(display, (), text)  # a JSON file that is no manifest is not ours
    if kind in (K8S, K8S_JSON):
        findings = _lint_k8s(display, text, target, settings, catalogue, enabled)
    elif kind == PYTHON:
        findings = _lint_python(display, text, target, settings, catalogue, enabled, history)
    else:
        findings = _lint_sql(display, text, target, settings, catalogue, enabled, history)
    findings.sort(key=lambda f: f.sort_key)
    return FileReport(display, tuple(findings), text)


def _lint_sql(
    display: str,
    text: str,
    target: Target,
    settings: Settings,
    catalogue: Catalogue,
    enabled: frozenset[str],
    history: History | None,
) -> list[Finding]:
    from zdlint.finding_factory import make_finding
    from zdlint.sql.engine import lint_sql, options_for
    from zdlint.suppressions import apply_suppressions

    options = options_for(settings, enabled, target.path)
    schema = history.model_before(target.path) if history is not None else None
    result = lint_sql(display, text, options, catalogue, target.path, schema)
    if history is not None:
        history.checked(target.path)
    unused_rule = catalogue.get(UNUSED_SUPPRESSION)

    def make_unused(start: int, end: int, fields: dict[str, object]) -> Finding | None:
        return make_finding(unused_rule, display, result.source, start, end, Hit(fields))  # type: ignore[arg-type]

    kept = apply_suppressions(
        result.findings,
        [s.comment_start for s in result.statements],
        text,
        catalogue,
        make_unused,
    )
    return [f for f in kept if f.code in enabled]


def _lint_python(
    display: str,
    text: str,
    target: Target,
    settings: Settings,
    catalogue: Catalogue,
    enabled: frozenset[str],
    history: History | None,
) -> list[Finding]:
    """A Django or Alembic migration, by the SQL it renders; other Python is not ours."""
    from zdlint.orm.check import PythonMigrations, lint_python, python_flavour

    flavour = python_flavour(text, target.path)
    if flavour is None:
        return []
    known = None
    if history is not None:
        if not isinstance(history.python, PythonMigrations):
            history.python = PythonMigrations()
        known = history.python
    seed = history.seed if history is not None else None
    return lint_python(
        display, text, target.path, flavour, settings, catalogue, enabled, seed, known
    )


def _lint_k8s(
    display: str,
    text: str,
    target: Target,
    settings: Settings,
    catalogue: Catalogue,
    enabled: frozenset[str],
) -> list[Finding]:
    try:
        from zdlint.k8s.engine import lint_manifests
    except ImportError:  # the Kubernetes checker is not part of this build
        return []
    return lint_manifests(display, text, settings, catalogue, enabled)


def fails(findings: list[Finding], settings: Settings) -> bool:
    return any(f.severity >= settings.fail_on for f in findings)
