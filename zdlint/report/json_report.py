"""`--output-format json`: one JSON document with every finding and the run's counts."""

from __future__ import annotations

from typing import Any

import zdlint
from zdlint.catalogue import Catalogue
from zdlint.findings import FileReport, Finding
from zdlint.report import drop_text
from zdlint.report.json_text import dumps
from zdlint.report.summary import Summary, sorted_findings

prepare = drop_text  # the text of the files is never shown


def render(reports: list[FileReport], catalogue: Catalogue, *, color: bool = False) -> str:
    document = {
        "version": zdlint.__version__,
        "findings": [finding_object(f) for f in sorted_findings(reports)],
        "summary": Summary.of(reports).as_dict(),
    }
    return dumps(document, ensure_ascii=False) + "\n"


def finding_object(finding: Finding) -> dict[str, Any]:
    """The JSON shape of one finding, shared with `json-lines`; positions are 1-based."""
    span = finding.span
    return {
        "code": finding.code,
        "rule": finding.rule,
        "severity": finding.severity.label,
        "path": finding.path,
        "line": span.line,
        "column": span.column,
        "end_line": span.end_line,
        "end_column": span.end_column,
        "message": finding.message,
        "help": finding.help,
        "lock": finding.lock,
        "fixable": finding.fixable,
    }
