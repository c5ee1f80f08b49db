"""`--output-format gitlab`: a GitLab Code Quality report (a JSON array of issues)."""

from __future__ import annotations

import json
from typing import Any

from zdlint.catalogue import Catalogue
from zdlint.findings import FileReport, Finding, Severity
from zdlint.report.fingerprint import fingerprints
from zdlint.report.summary import sorted_findings

SEVERITIES = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def render(reports: list[FileReport], catalogue: Catalogue, *, color: bool = False) -> str:
    findings = sorted_findings(reports)
    issues = [
        _issue(finding, fingerprint)
        for finding, fingerprint in zip(findings, fingerprints(findings, reports), strict=True)
    ]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def _issue(finding: Finding, fingerprint: str) -> dict[str, Any]:
    return {
        "type": "issue",
        "engine_name": "zdlint",
        "check_name": finding.code,
        "description": f"{finding.code} {finding.message}",
        "categories": ["Bug Risk"],
        "fingerprint": fingerprint,
        "severity": SEVERITIES[finding.severity],
        "location": {
            # GitLab wants paths relative to the repository, without a leading "./".
            "path": finding.path.removeprefix("./"),
            "lines": {"begin": finding.span.line, "end": finding.span.end_line},
        },
    }
