"""`--output-format github`: workflow commands that GitHub Actions shows as annotations."""

from __future__ import annotations

from zdlint.catalogue import Catalogue
from zdlint.findings import FileReport, Finding, Severity
from zdlint.report import drop_text
from zdlint.report.summary import sorted_findings

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


prepare = drop_text  # the text of the files is never shown


def render(reports: list[FileReport], catalogue: Catalogue, *, color: bool = False) -> str:
    return "".join(annotation(f) + "\n" for f in sorted_findings(reports))


def annotation(finding: Finding) -> str:
    """One `::error file=…,line=…::message` command."""
    span = finding.span
    properties = [("file", finding.path), ("line", str(span.line))]
    if span.end_line == span.line:
        properties += [
            ("col", str(span.column)),
            ("endLine", str(span.end_line)),
            ("endColumn", str(span.end_column)),
        ]
    else:
        # GitHub rejects columns on an annotation that covers several lines.
        properties.append(("endLine", str(span.end_line)))
    properties.append(("title", f"{finding.code} {finding.rule}"))
    message = finding.message + (f"\nhelp: {finding.help}" if finding.help else "")
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{COMMANDS[finding.severity]} {rendered}::{escape_data(message)}"


def escape_data(text: str) -> str:
    """Escape a command's message as the Actions toolkit does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command property's value: the message escapes plus `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
