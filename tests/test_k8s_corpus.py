"""The real-manifest corpus (../shared/corpus/k8s) is checked without a crash.

Skipped when the corpus is not there; it is read in place, never copied.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import CORPUS, lint

K8S_CORPUS = CORPUS / "k8s"
FILES = sorted(K8S_CORPUS.rglob("*.yaml")) if K8S_CORPUS.is_dir() else []

pytestmark = pytest.mark.skipif(not FILES, reason="no Kubernetes corpus at ../shared/corpus/k8s")


def test_every_corpus_manifest_loads_and_every_finding_has_a_position_in_the_file():
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        findings = lint(text, path)
        assert [f for f in findings if f.code in ("ZK001", "ZK002")] == [], path
        for finding in findings:
            assert 1 <= finding.span.line <= len(lines), (path, finding)
            assert "{" not in finding.message, finding.message


def test_identical_grpc_probes_in_the_demo_release_are_found():
    release = (
        K8S_CORPUS
        / "GoogleCloudPlatform+microservices-demo/docs/release__kubernetes-manifests.yaml"
    )
    if not release.is_file():
        pytest.skip("the microservices-demo release manifest is not in the corpus")
    findings = lint(release.read_text(encoding="utf-8"), release)
    identical = [f for f in findings if f.code == "ZK103"]
    # Nine services probe one gRPC port for both, redis one TCP port, the frontend one path.
    assert sum("gRPC port" in f.message for f in identical) == 9
    assert any("TCP port 6379" in f.message for f in identical)
    assert any("HTTP GET /_healthz" in f.message for f in identical)


def test_each_corpus_folder_checked_as_one_run_places_every_finding_in_its_own_file():
    from zdlint.catalogue import load_catalogue
    from zdlint.config import Settings
    from zdlint.lint import lint_paths

    folders = sorted({path.parent for path in FILES})
    for folder in folders:
        run = lint_paths([str(folder)], Settings(), load_catalogue())
        assert run.errors == [], run.errors
        for report in run.reports:
            lines = Path(report.path).read_text("utf-8").splitlines()
            for finding in report.findings:
                assert finding.path == report.path
                assert 1 <= finding.span.line <= len(lines), (report.path, finding)
                assert finding.code not in ("ZK001", "ZK002"), finding
