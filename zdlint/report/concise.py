"""One line per finding, `path:line:col: CODE message`, then the summary line."""

from __future__ import annotations

from zdlint.catalogue import Catalogue
from zdlint.findings import FileReport
from zdlint.report import drop_text
from zdlint.report.ansi import BOLD, paint, severity_color
from zdlint.report.code_frame import visible_text
from zdlint.report.summary import sorted_findings, summary_line

prepare = drop_text  # the text of the files is never shown


def render(reports: list[FileReport], catalogue: Catalogue, *, color: bool = False) -> str:
    lines = [
        paint(f"{f.path}:{f.span.line}:{f.span.column}:", BOLD, color=color)
        + " "
        + paint(f.code, severity_color(f.severity), BOLD, color=color)
        + " "
        + visible_text(f.message)
        for f in sorted_findings(reports)
    ]
    lines.append(summary_line(reports))
    return "\n".join(lines) + "\n"
