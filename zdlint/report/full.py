"""The default format: a header per finding, a code frame, help and lock, then a summary."""

from __future__ import annotations

from dataclasses import replace

from zdlint.catalogue import Catalogue
from zdlint.findings import FileReport, Finding
from zdlint.report.ansi import BOLD, CYAN, paint, severity_color
from zdlint.report.code_frame import code_frame, visible_text
from zdlint.report.lock_text import lock_description
from zdlint.report.summary import Summary, summary_line
from zdlint.source import SourceText


def prepare(report: FileReport, *, color: bool = False) -> FileReport:
    """The report with its findings' blocks made (in the process that checked the file)."""
    source = SourceText(report.text) if report.text is not None and report.findings else None
    blocks = tuple(_finding_block(f, source, color) for f in report.findings)
    return replace(report, prepared=(color, blocks))


def render(reports: list[FileReport], catalogue: Catalogue, *, color: bool = False) -> str:
    pairs: list[tuple[Finding, str]] = []
    for report in reports:
        prepared = report.prepared
        if not (isinstance(prepared, tuple) and prepared[0] is color):
            prepared = prepare(report, color=color).prepared
        pairs += zip(report.findings, prepared[1], strict=True)  # type: ignore[index]
    # stable: findings at the same place keep their report's order, as sorted_findings does
    pairs.sort(key=lambda pair: pair[0].sort_key)
    tail = [summary_line(reports)]
    fixable = Summary.of(reports).fixable
    if fixable:
        tail.append(f"{fixable} fixable with `zdlint fix`.")
    return "".join(block + "\n\n" for _, block in pairs) + "\n".join(tail) + "\n"


def _finding_block(finding: Finding, source: SourceText | None, color: bool) -> str:
    hue = severity_color(finding.severity)
    span = finding.span
    header = (
        paint(f"{finding.path}:{span.line}:{span.column}:", BOLD, color=color)
        + " "
        + paint(finding.code, hue, BOLD, color=color)
        + " "
        + paint(f"[{finding.severity.label}]", hue, color=color)
        + " "
        + visible_text(finding.message)
    )
    lines = [header]
    width = 0
    if source is not None:
        frame, width = code_frame(source, span, caret_color=hue, color=color)
        lines += frame
    notes = []
    if finding.help:
        notes.append(("help", finding.help))
    if finding.lock:
        notes.append(("lock", lock_description(finding.lock)))
    if notes:
        indent = " " * max(width, 1)
        for label, value in notes:
            lines.append(f"{indent} = {paint(label + ':', CYAN, BOLD, color=color)} " + value)
    return "\n".join(lines)
