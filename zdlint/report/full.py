"""The default format: a header per finding, a code frame, help and lock, then a summary."""

from __future__ import annotations

from dataclasses import replace

from zdlint.catalogue import Catalogue
from zdlint.findings import FileReport, Finding
from zdlint.report.ansi import BOLD, CYAN, paint, severity_color
from zdlint.report.code_frame import code_frame, visible_text
from zdlint.report.lock_text import lock_description
from zdlint.report.summary import Summary, sorted_findings, summary_line
from zdlint.source import SourceText


def prepare(report: FileReport, *, color: bool = False) -> FileReport:
    """The report with its findings' blocks made (in the process that checked the file)."""
    source = SourceText(report.text) if report.text is not None and report.findings else None
    blocks = tuple(_finding_block(f, source, color) for f in report.findings)
    return replace(report, prepared=(color, blocks))


def render(reports: list[FileReport], catalogue: Catalogue, *, color: bool = False) -> str:
    blocks = _prepared_blocks(reports, color)
    if blocks is None:
        texts = {report.path: report.text for report in reports}
        sources: dict[str, SourceText] = {}
        blocks = []
        for finding in sorted_findings(reports):
            text = texts.get(finding.path)
            if text is not None and finding.path not in sources:
                sources[finding.path] = SourceText(text)
            blocks.append(_finding_block(finding, sources.get(finding.path), color))
    tail = [summary_line(reports)]
    fixable = Summary.of(reports).fixable
    if fixable:
        tail.append(f"{fixable} fixable with `zdlint fix`.")
    return "".join(block + "\n\n" for block in blocks) + "\n".join(tail) + "\n"


def _prepared_blocks(reports: list[FileReport], color: bool) -> list[str] | None:
    """The blocks `prepare` made, in output order; None unless every report has its own
    path and was prepared with this colour setting."""
    if len({r.path for r in reports}) != len(reports):
        return None  # one file named twice: its findings interleave by line
    blocks: list[str] = []
    for report in sorted(reports, key=lambda r: r.path):  # findings sort by path first
        prepared = report.prepared
        if not (isinstance(prepared, tuple) and prepared[0] is color):
            return None
        blocks += prepared[1]
    return blocks


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
