"""Fingerprints that follow a finding when the lines above it move.

Code scanning (SARIF `partialFingerprints`) and GitLab Code Quality (`fingerprint`) match
findings between runs by these. The hash covers the code, the path and the text the span
covers with its whitespace collapsed, never line numbers; identical findings in one file
are told apart by an occurrence counter, as GitHub does for its own line hashes.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence

from zdlint.findings import FileReport, Finding
from zdlint.source import SourceText


def fingerprints(findings: Sequence[Finding], reports: Iterable[FileReport]) -> list[str]:
    """A stable fingerprint for each of `findings` (in that order), using the reports' text."""
    texts = {report.path: report.text for report in reports}
    sources: dict[str, SourceText | None] = {}
    seen: Counter[str] = Counter()
    result = []
    for finding in findings:
        if finding.path not in sources:
            text = texts.get(finding.path)
            sources[finding.path] = SourceText(text) if text is not None else None
        digest = _digest(finding, _span_text(sources[finding.path], finding))
        seen[digest] += 1
        result.append(f"{digest}:{seen[digest]}")
    return result


def _digest(finding: Finding, text: str | None) -> str:
    # Without the file's text, the message (which names the table and column) stands in.
    anchor = text if text is not None else finding.message
    parts = (finding.code, finding.path, " ".join(anchor.split()))
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _span_text(source: SourceText | None, finding: Finding) -> str | None:
    span = finding.span
    if source is None or not 1 <= span.line <= source.line_count:
        return None
    lines = [source.line_text(n) for n in range(span.line, max(span.end_line, span.line) + 1)]
    if len(lines) == 1:
        covered = lines[0][span.column - 1 : span.end_column - 1]
    else:
        covered = "\n".join(
            [lines[0][span.column - 1 :], *lines[1:-1], lines[-1][: span.end_column - 1]]
        )
    # An empty span (an insertion point) is anchored by the line it sits on.
    return covered if covered.strip() else lines[0]
