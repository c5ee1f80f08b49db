"""Adopting zdlint on a repository that already has migrations: a baseline of the findings
accepted today (`--write-baseline`, `--baseline`) and `start-after`, the last migration
that has already run everywhere (strong_migrations' `start_after`).

Both only filter what is reported: the files are still checked, so the schema history
that later migrations are judged against is replayed in full.

Baseline entries are the fingerprints of zdlint.report.fingerprint, which follow a
finding when lines above it move, computed with paths relative to the baseline file's
folder, so the baseline holds wherever zdlint is run from.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from zdlint.findings import FileReport, Finding
from zdlint.report.fingerprint import fingerprints
from zdlint.report.summary import sorted_findings

BASELINE_VERSION = 1


class BaselineError(Exception):
    """The baseline file cannot be read or written; the message says why."""


def write_baseline(path: Path, reports: Sequence[FileReport]) -> int:
    """Record every finding of `reports` in `path`; return how many."""
    from zdlint.atomic import write_atomic

    findings = sorted_findings(reports)
    entries = [
        {
            "fingerprint": fingerprint,
            "code": finding.code,
            "path": _relative(finding.path, path.parent),
            "line": finding.span.line,
            "message": finding.message,
        }
        for finding, fingerprint in zip(
            findings, _fingerprints(findings, reports, path.parent), strict=True
        )
    ]
    document = {"version": BASELINE_VERSION, "findings": entries}
    try:
        write_atomic(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise BaselineError(f"{path}: cannot write the baseline: {exc.strerror or exc}") from None
    return len(entries)


def read_baseline(path: Path) -> frozenset[str]:
    """The fingerprints recorded in a baseline file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(
            f"{path}: baseline file not found; write one with `zdlint check --write-baseline "
            f"{path} …`"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc}") from None
    except ValueError as exc:
        raise BaselineError(f"{path}: the baseline is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        document = {}
    entries = document.get("findings")
    if document.get("version") != BASELINE_VERSION or not isinstance(entries, list):
        raise BaselineError(
            f"{path}: not a zdlint baseline (expected version {BASELINE_VERSION} and a "
            "findings list); write it again with --write-baseline"
        )
    try:
        return frozenset(str(entry["fingerprint"]) for entry in entries)
    except (TypeError, KeyError):
        raise BaselineError(f"{path}: a baseline entry has no fingerprint") from None


def without_baseline(
    reports: Sequence[FileReport], baseline: frozenset[str], baseline_path: Path
) -> list[FileReport]:
    """The reports without the findings recorded in the baseline."""
    findings = [f for report in reports for f in report.findings]
    known = {
        id(finding)
        for finding, fingerprint in zip(
            findings, _fingerprints(findings, reports, baseline_path.parent), strict=True
        )
        if fingerprint in baseline
    }
    return _keep(reports, lambda finding: id(finding) not in known)


def after_start(reports: Sequence[FileReport], start_after: str) -> list[FileReport]:
    """The reports without the findings of migrations that sort at or before `start_after`
    in their folder (matched by file or folder name, its stem, or a version prefix of it
    ending at `_` or `-`). A folder none of whose migrations matches is reported in full."""
    from zdlint.sql.history import PER_FOLDER_NAMES, migration_sequence

    done: dict[Path, frozenset[Path]] = {}
    hidden: set[str] = set()
    for report in reports:
        if not report.findings or report.path == "-" or not report.path.endswith(".sql"):
            continue
        path = Path(report.path).resolve()
        root, files = migration_sequence(path)
        if root not in done:
            names = [f.parent.name if f.name in PER_FOLDER_NAMES else f.name for f in files]
            matches = [i for i, name in enumerate(names) if _is_named(name, start_after)]
            done[root] = frozenset(files[: matches[-1] + 1]) if matches else frozenset()
        if path in done[root]:
            hidden.add(report.path)
    return _keep(reports, lambda finding: finding.path not in hidden)


def _is_named(name: str, start_after: str) -> bool:
    if name == start_after or os.path.splitext(name)[0] == start_after:
        return True
    return name.startswith(start_after) and name[len(start_after)] in "_-"


def _keep(reports: Sequence[FileReport], wanted: Callable[[Finding], bool]) -> list[FileReport]:
    result = []
    for report in reports:
        kept = tuple(f for f in report.findings if wanted(f))
        if len(kept) != len(report.findings):
            # what a reporter prepared follows the findings one to one: make it again
            report = replace(report, findings=kept, prepared=None)
        result.append(report)
    return result


def _fingerprints(
    findings: Sequence[Finding], reports: Sequence[FileReport], folder: Path
) -> list[str]:
    """Fingerprints of `findings` with their paths relative to `folder`."""
    moved = [replace(f, path=_relative(f.path, folder)) for f in findings]
    texts = [replace(r, path=_relative(r.path, folder), prepared=None) for r in reports]
    return fingerprints(moved, texts)


def _relative(path: str, folder: Path) -> str:
    if path == "-":
        return path
    try:
        return Path(os.path.relpath(os.path.realpath(path), os.path.realpath(folder))).as_posix()
    except ValueError:  # another drive on Windows
        return Path(path).as_posix()
