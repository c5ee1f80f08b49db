"""What the reporters say about a whole run: findings in order, counts, the summary line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from zdlint.findings import FileReport, Finding, Severity


def sorted_findings(reports: Iterable[FileReport]) -> list[Finding]:
    """Every finding of every report, by path, line, column and code."""
    return sorted((f for report in reports for f in report.findings), key=lambda f: f.sort_key)


@dataclass(frozen=True)
class Summary:
    """Counts over a run, for the last line of human output and the `summary` of JSON."""

    findings: int
    errors: int
    warnings: int
    info: int
    fixable: int
    files: int  # files checked
    files_with_findings: int

    @classmethod
    def of(cls, reports: Iterable[FileReport]) -> Summary:
        reports = list(reports)
        findings = [f for report in reports for f in report.findings]
        by_severity = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
        return cls(
            findings=len(findings),
            errors=by_severity[Severity.ERROR],
            warnings=by_severity[Severity.WARNING],
            info=by_severity[Severity.INFO],
            fixable=sum(1 for f in findings if f.fixable),
            files=len(reports),
            files_with_findings=len({r.path for r in reports if r.findings}),
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "findings": self.findings,
            "errors": self.errors,
            "warnings": self.warnings,
            "info": self.info,
            "fixable": self.fixable,
            "files": self.files,
            "files_with_findings": self.files_with_findings,
        }


def summary_line(reports: Iterable[FileReport]) -> str:
    """`Found 3 findings (2 errors, 1 warning, 0 info) in 2 files.`, `All checks passed.`,
    or `No files to check.` when there were none (still exit 0, as ruff does)."""
    s = Summary.of(reports)
    if not s.files:
        return "No files to check."
    if not s.findings:
        return "All checks passed."
    return (
        f"Found {_plural(s.findings, 'finding')} ({_plural(s.errors, 'error')}, "
        f"{_plural(s.warnings, 'warning')}, {s.info} info) "
        f"in {_plural(s.files_with_findings, 'file')}."
    )


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
