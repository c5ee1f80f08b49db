"""Lint one file of Kubernetes manifests: load, model the scope, run the checks."""

from __future__ import annotations

from zdlint.catalogue import Catalogue
from zdlint.config import Settings
from zdlint.discover import K8S, kind_of_text
from zdlint.finding_factory import make_finding
from zdlint.findings import Finding, Hit
from zdlint.k8s.checks import all_checks
from zdlint.k8s.graph import build_scope
from zdlint.k8s.load import TEMPLATE, BrokenDocument, load_documents
from zdlint.k8s.model import CHECKED_KINDS, K8sObject, objects_in
from zdlint.k8s.options import k8s_options
from zdlint.k8s.suppressions import apply_suppressions
from zdlint.source import SourceText

INVALID_MANIFEST = "ZK001"
UNRENDERED_TEMPLATE = "ZK002"
UNUSED_SUPPRESSION = "ZD002"


def lint_manifests(
    display: str, text: str, settings: Settings, catalogue: Catalogue, enabled: frozenset[str]
) -> list[Finding]:
    """Findings for one manifest file (or stdin): one render scope."""
    options = k8s_options(settings.k8s, k8s_version=settings.k8s_version)
    source = SourceText(text)
    rules = {code: rule for code in enabled if (rule := catalogue.get(code)) is not None}
    findings: list[Finding] = []

    def report(code: str, start: int, end: int, **fields: object) -> None:
        rule = rules.get(code)
        # One unrendered-template finding says it all: the whole file is a template.
        if code == UNRENDERED_TEMPLATE and any(f.code == code for f in findings):
            return
        if rule is not None:
            findings.append(make_finding(rule, display, source, start, end, Hit(fields)))

    objects: list[K8sObject] = []
    broken: list[BrokenDocument] = []
    for document in load_documents(text):
        if isinstance(document, BrokenDocument):
            broken.append(document)
            continue
        found = list(objects_in(document))
        checked = [obj for obj in found if obj.kind in CHECKED_KINDS]
        if checked and document.helm_action is not None:
            offset, action = document.helm_action
            report(UNRENDERED_TEMPLATE, offset, offset + len(action), action=action)
            continue
        objects.extend(found)  # every kind: ZK210 checks any object's apiVersion
    for document in broken:
        # A broken document in a file that is not Kubernetes YAML is none of our business.
        if objects or kind_of_text(text[document.start : document.end]) == K8S:
            code = UNRENDERED_TEMPLATE if document.problem == TEMPLATE else INVALID_MANIFEST
            fields = {"action": document.error} if code == UNRENDERED_TEMPLATE else {}
            report(code, document.offset, document.offset + 1, error=document.error, **fields)

    scope = build_scope(objects)
    flagged = [
        (rules[code], result)
        for code, check in all_checks()
        if code in rules
        for result in check(scope, options)
    ]
    kept, unused = apply_suppressions(flagged, objects, catalogue)
    for rule, result in kept:
        findings.append(make_finding(rule, display, source, 0, 0, result.hit))
    for stale in unused:
        start, end = stale.span
        report(UNUSED_SUPPRESSION, start, end, codes=stale.codes, reason=stale.reason)
    return findings
