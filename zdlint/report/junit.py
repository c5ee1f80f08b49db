"""`--output-format junit`: JUnit XML, one testsuite per file and one failing test per finding."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from zdlint.catalogue import Catalogue
from zdlint.findings import FileReport, Finding
from zdlint.report import drop_text
from zdlint.report.lock_text import lock_description
from zdlint.report.summary import sorted_findings

# Characters XML 1.0 cannot carry at all, not even escaped; ElementTree would write them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


prepare = drop_text  # the text of the files is never shown


def render(reports: list[FileReport], catalogue: Catalogue, *, color: bool = False) -> str:
    findings = sorted_findings(reports)
    root = ET.Element(
        "testsuites",
        name="zdlint",
        tests=str(sum(max(len(r.findings), 1) for r in reports)),
        failures=str(len(findings)),
        errors="0",
    )
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    for path in sorted({r.path for r in reports}):
        file_findings = by_path.get(path, [])
        suite = ET.SubElement(
            root,
            "testsuite",
            name=_xml(path),
            tests=str(max(len(file_findings), 1)),
            failures=str(len(file_findings)),
            errors="0",
            skipped="0",
        )
        if not file_findings:
            ET.SubElement(suite, "testcase", name="zdlint", classname=_xml(path), file=_xml(path))
        for finding in file_findings:
            _testcase(suite, finding)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _testcase(suite: ET.Element, finding: Finding) -> None:
    span = finding.span
    case = ET.SubElement(
        suite,
        "testcase",
        name=f"{finding.code} {finding.rule} at {span.line}:{span.column}",
        classname=_xml(finding.path),
        file=_xml(finding.path),
        line=str(span.line),
    )
    failure = ET.SubElement(
        case, "failure", message=_xml(finding.message), type=finding.severity.label
    )
    details = [f"{finding.path}:{span.line}:{span.column}: {finding.code} {finding.message}"]
    if finding.help:
        details.append(f"help: {finding.help}")
    if finding.lock:
        details.append(f"lock: {lock_description(finding.lock)}")
    failure.text = _xml("\n".join(details))


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)
