"""`--output-format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import zdlint
from zdlint.catalogue import Catalogue, Rule
from zdlint.findings import FileReport, Finding, Severity
from zdlint.report.fingerprint import fingerprints
from zdlint.report.json_text import dumps
from zdlint.report.summary import sorted_findings

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://github.com/zdlint/zdlint"
RULE_DOCS = INFORMATION_URI + "/blob/main/docs/rules/{code}.md"
FINGERPRINT_KEY = "zdlintFingerprint/v1"
SRCROOT = "%SRCROOT%"
MAX_DESCRIPTION = 1024  # GitHub's limit on rule descriptions
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render(reports: list[FileReport], catalogue: Catalogue, *, color: bool = False) -> str:
    return dumps(sarif_log(reports, catalogue), ensure_ascii=False) + "\n"


def sarif_log(reports: list[FileReport], catalogue: Catalogue) -> dict[str, Any]:
    """The SARIF log as a dict."""
    findings = sorted_findings(reports)
    rules: list[dict[str, Any]] = []
    rule_index: dict[str, int] = {}
    for finding in sorted(findings, key=lambda f: f.code):
        if finding.code not in rule_index:
            rule_index[finding.code] = len(rules)
            rule = catalogue.get(finding.code)
            rules.append(rule_descriptor(rule) if rule else _descriptor_from_finding(finding))
    results = [
        _result(finding, rule_index[finding.code], fingerprint)
        for finding, fingerprint in zip(findings, fingerprints(findings, reports), strict=True)
    ]
    run = {
        "tool": {
            "driver": {
                "name": "zdlint",
                "version": zdlint.__version__,
                "semanticVersion": zdlint.__version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "originalUriBaseIds": {SRCROOT: {"uri": Path.cwd().as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    """A `reportingDescriptor` for a catalogue rule."""
    level = LEVELS[rule.severity]
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": _truncate(rule.summary)},
        "fullDescription": {"text": _truncate(rule.what)},
        "helpUri": RULE_DOCS.format(code=rule.code),
        "help": {
            "text": (
                f"{rule.what}\n\nWhy is this bad?\n{rule.why}\n\nUse instead:\n{rule.instead}"
            ),
            "markdown": (
                f"## What it does\n\n{rule.what}\n\n## Why is this bad?\n\n{rule.why}"
                f"\n\n## Use instead\n\n{rule.instead}"
            ),
        },
        "defaultConfiguration": {"level": level},
        "properties": {"tags": [rule.category]},
    }


def _descriptor_from_finding(finding: Finding) -> dict[str, Any]:
    # Only reached when a finding's code is missing from the catalogue.
    return {
        "id": finding.code,
        "name": finding.rule,
        "shortDescription": {"text": _truncate(finding.rule)},
        "defaultConfiguration": {"level": LEVELS[finding.severity]},
    }


def _result(finding: Finding, rule_index: int, fingerprint: str) -> dict[str, Any]:
    span = finding.span
    properties: dict[str, Any] = {"fixable": finding.fixable}
    if finding.help:
        properties["help"] = finding.help
    if finding.lock:
        properties["lock"] = finding.lock
    return {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact_location(finding.path),
                    "region": {
                        "startLine": span.line,
                        "startColumn": span.column,
                        "endLine": span.end_line,
                        "endColumn": span.end_column,
                    },
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        "properties": properties,
    }


def artifact_location(path: str) -> dict[str, str]:
    """A relative URI under %SRCROOT% (the working directory), or a file: URI outside it."""
    location = Path(path)
    if location.is_absolute():
        try:
            location = location.relative_to(Path.cwd())
        except ValueError:
            return {"uri": location.as_uri()}
    # surrogateescape gives back the original bytes of a file name that is not UTF-8.
    uri = quote(location.as_posix(), safe="/", errors="surrogateescape")
    return {"uri": uri, "uriBaseId": SRCROOT}


def _truncate(text: str) -> str:
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"
