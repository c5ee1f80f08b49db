"""Lint the Kubernetes manifests of a run: load every file, cut the objects into deploy
scopes, run the checks on each scope, and hand each finding to the file it points into."""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from zdlint.catalogue import Catalogue, Rule
from zdlint.config import Settings
from zdlint.discover import K8S, kind_of_text
from zdlint.finding_factory import make_finding
from zdlint.findings import Finding, Hit
from zdlint.k8s.checks import Flag, all_checks
from zdlint.k8s.graph import build_scope
from zdlint.k8s.kustomize import LoadedFile, deploy_scopes
from zdlint.k8s.load import TEMPLATE, BrokenDocument, Document, load_documents
from zdlint.k8s.model import CHECKED_KINDS, K8sObject, objects_in
from zdlint.k8s.options import k8s_options
from zdlint.k8s.suppressions import apply_suppressions
from zdlint.source import SourceText

INVALID_MANIFEST = "ZK001"
UNRENDERED_TEMPLATE = "ZK002"
UNUSED_SUPPRESSION = "ZD002"


@dataclass(frozen=True)
class ManifestFile:
    """One manifest file of a run (or stdin, or a rendered stream)."""

    display: str
    text: str
    path: Path | None  # None when the text is not a file (stdin, rendered output)
    enabled: frozenset[str]  # the rules enabled for this file


def lint_manifests(
    display: str, text: str, settings: Settings, catalogue: Catalogue, enabled: frozenset[str]
) -> list[Finding]:
    """Findings for one manifest text checked on its own."""
    return lint_manifest_files([ManifestFile(display, text, None, enabled)], settings, catalogue)[0]


def lint_manifest_files(
    files: Sequence[ManifestFile],
    settings: Settings,
    catalogue: Catalogue,
    note: Callable[[str], None] | None = None,
) -> list[list[Finding]]:
    """Findings for each of `files`, checked together as one run: a Service in one file
    sees the Deployment in another. `note` hears what was skipped (patches whose base is
    not in the run, patches zdlint cannot apply)."""
    options = k8s_options(settings.k8s, k8s_version=settings.k8s_version)
    run = _Run(files, catalogue)
    loaded = [run.load(i) for i in range(len(files))]
    scopes = deploy_scopes(loaded, note or (lambda _: None))
    flagged: dict[tuple[object, ...], tuple[Rule, Flag]] = {}
    every: list[K8sObject] = []
    for objects in scopes:
        every += objects
        scope = build_scope(objects)
        for code, check in all_checks():
            rule = run.rules.get(code)
            if rule is None:
                continue
            for result in check(scope, options):
                # A base that two overlays deploy is checked twice: say it once.
                hit = result.hit
                key = (code, hit.start, hit.end, repr(sorted(hit.fields.items())))
                flagged.setdefault(key, (rule, result))
    kept, unused = apply_suppressions(list(flagged.values()), every, catalogue)
    for rule, result in kept:
        run.report_hit(rule, result.hit)
    for stale in unused:
        start, end = stale.span
        run.report_at(UNUSED_SUPPRESSION, start, end, codes=stale.codes, reason=stale.reason)
    return run.findings


class _Run:
    """The files of a run laid end to end: a position in the run names its file."""

    def __init__(self, files: Sequence[ManifestFile], catalogue: Catalogue) -> None:
        self.files = files
        self.sources = [SourceText(f.text) for f in files]
        self.origins: list[int] = []
        origin = 0
        for f in files:
            self.origins.append(origin)
            origin += len(f.text) + 1  # a gap, so no offset is in two files
        enabled = frozenset().union(*(f.enabled for f in files))
        self.rules = {code: rule for code in enabled if (rule := catalogue.get(code))}
        self.findings: list[list[Finding]] = [[] for _ in files]

    def load(self, i: int) -> LoadedFile:
        """The file's objects, of every kind (a patch may target any of them); its broken
        documents and, once, its unrendered templates reported."""
        f = self.files[i]
        objects: list[K8sObject] = []
        documents: list[Document] = []
        broken: list[BrokenDocument] = []
        origin = self.origins[i]
        templated = False  # one unrendered-template finding says it all: the file is one

        def unrendered(at: int, length: int, **fields: object) -> None:
            nonlocal templated
            if not templated:
                templated = True
                self.report_at(UNRENDERED_TEMPLATE, at, at + length, **fields)

        for document in load_documents(f.text, f.display, origin):
            if isinstance(document, BrokenDocument):
                broken.append(document)
                continue
            documents.append(document)
            found = list(objects_in(document))
            if document.helm_action is not None and any(o.kind in CHECKED_KINDS for o in found):
                offset, action = document.helm_action
                unrendered(origin + offset, len(action), action=action)
                continue
            objects.extend(found)
        for document in broken:
            # A broken document in a file that is not Kubernetes YAML is none of our business.
            if objects or kind_of_text(f.text[document.start : document.end]) == K8S:
                at = origin + document.offset
                if document.problem == TEMPLATE:
                    unrendered(at, 1, error=document.error, action=document.error)
                else:
                    self.report_at(INVALID_MANIFEST, at, at + 1, error=document.error)
        path = f.path.resolve() if f.path is not None else None
        return LoadedFile(f.display, path, objects, documents, f.text, origin)

    def report_at(self, code: str, start: int, end: int, **fields: object) -> None:
        rule = self.rules.get(code)
        if rule is not None:
            self.report_hit(rule, Hit(fields, start=start, end=end))

    def report_hit(self, rule: Rule, hit: Hit) -> None:
        """The finding, in the file its position (a run offset) falls in, if that file
        has the rule enabled."""
        start = hit.start or 0
        i = bisect.bisect_right(self.origins, start) - 1
        f, origin = self.files[i], self.origins[i]
        if rule.code not in f.enabled:
            return
        local = dataclasses.replace(
            hit, start=start - origin, end=(hit.end if hit.end is not None else start) - origin
        )
        self.findings[i].append(make_finding(rule, f.display, self.sources[i], 0, 0, local))
