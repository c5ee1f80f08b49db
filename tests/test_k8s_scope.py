"""The deploy scope: every manifest of a run is checked together, across files.

Each test writes a small folder of manifests (one object per file, as real repositories
lay them out) and checks it the way `zdlint check FOLDER` does.
"""

from __future__ import annotations

from pathlib import Path

from zdlint.catalogue import load_catalogue
from zdlint.config import Settings
from zdlint.findings import Finding
from zdlint.lint import LintRun, lint_paths

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  minReadySeconds: 10
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: example.com/web:1.4.2
          ports:
            - name: http
              containerPort: 8080
          resources:
            requests:
              cpu: 100m
              memory: 256Mi
            limits:
              memory: 256Mi
"""
SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
    - port: 80
      targetPort: http
"""
PDB = """apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app: web
"""
HPA = """apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: {floor}
  maxReplicas: 10
"""


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def check(*paths: Path | str, render: bool = False, **settings: object) -> LintRun:
    arguments = [str(p) for p in paths]
    return lint_paths(arguments, Settings(**settings), load_catalogue(), render=render)  # type: ignore[arg-type]


def findings(run: LintRun) -> list[Finding]:
    return [f for report in run.reports for f in report.findings]


def where(run: LintRun, code: str) -> list[tuple[str, int]]:
    """(file name, line) of each finding of `code`."""
    return [(Path(f.path).name, f.span.line) for f in findings(run) if f.code == code]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


# --- one object per file ------------------------------------------------------------------


def test_a_service_in_a_sibling_file_makes_the_missing_readiness_probe_a_finding(tmp_path):
    run = check(write(tmp_path, {"deployment.yaml": DEPLOYMENT, "service.yaml": SERVICE}))
    readiness = [f for f in findings(run) if f.code == "ZK101"]
    assert [f.message for f in readiness] == [
        "Container `web` of Deployment/web has no readinessProbe: Service/web sends it"
        " traffic as soon as the process starts"
    ]
    # the finding points into the Deployment's file, at the container
    assert where(run, "ZK101") == [("deployment.yaml", line_of(DEPLOYMENT, "- name: web"))]


def test_the_deployment_alone_has_no_service_so_no_readiness_finding(tmp_path):
    run = check(write(tmp_path, {"deployment.yaml": DEPLOYMENT}) / "deployment.yaml")
    assert where(run, "ZK101") == []


def test_a_budget_in_a_sibling_file_covers_the_deployment(tmp_path):
    folder = write(tmp_path, {"deployment.yaml": DEPLOYMENT, "service.yaml": SERVICE})
    assert where(check(folder), "ZK303") == [("deployment.yaml", line_of(DEPLOYMENT, "replicas"))]
    (folder / "pdb.yaml").write_text(PDB, encoding="utf-8")
    run = check(folder)
    assert where(run, "ZK303") == []
    assert where(run, "ZK305") == []


def test_the_missing_budget_message_speaks_of_the_manifests_checked(tmp_path):
    run = check(write(tmp_path, {"deployment.yaml": DEPLOYMENT}))
    (message,) = [f.message for f in findings(run) if f.code == "ZK303"]
    assert "no PodDisruptionBudget among the manifests checked" in message


def test_several_files_named_on_the_command_line_are_one_scope(tmp_path):
    folder = write(tmp_path, {"a/deployment.yaml": DEPLOYMENT, "b/service.yaml": SERVICE})
    run = check(folder / "a" / "deployment.yaml", folder / "b" / "service.yaml")
    assert where(run, "ZK101") == [("deployment.yaml", line_of(DEPLOYMENT, "- name: web"))]
    assert where(run, "ZK401") == []


def test_a_service_whose_workload_is_in_no_file_of_the_run_selects_nothing(tmp_path):
    other = DEPLOYMENT.replace("app: web", "app: api")
    run = check(write(tmp_path, {"deployment.yaml": other, "service.yaml": SERVICE}))
    assert where(run, "ZK401") == [("service.yaml", line_of(SERVICE, "selector"))]


def test_a_pdb_and_a_service_in_another_namespace_do_not_cover_the_workload(tmp_path):
    namespaced = DEPLOYMENT.replace("  name: web\n", "  name: web\n  namespace: shop\n", 1)
    elsewhere = PDB.replace("  name: web\n", "  name: web\n  namespace: billing\n", 1)
    run = check(write(tmp_path, {"deployment.yaml": namespaced, "pdb.yaml": elsewhere}))
    assert where(run, "ZK303") == [("deployment.yaml", line_of(namespaced, "replicas"))]
    assert where(run, "ZK305") == [("pdb.yaml", line_of(elsewhere, "selector"))]


def test_variants_of_one_object_in_two_folders_are_not_several_workloads(tmp_path):
    staging, production = DEPLOYMENT.replace("replicas: 3", "replicas: 2"), DEPLOYMENT
    run = check(
        write(
            tmp_path,
            {
                "staging/deployment.yaml": staging,
                "staging/service.yaml": SERVICE,
                "production/deployment.yaml": production,
                "production/service.yaml": SERVICE,
            },
        )
    )
    assert where(run, "ZK402") == []
    # each copy of the Deployment is behind the Service of its own folder
    readiness = sorted(f.path.split("/")[-2] for f in findings(run) if f.code == "ZK101")
    assert readiness == ["production", "staging"]


def test_findings_of_a_multi_file_run_carry_each_file_s_own_positions(tmp_path):
    blocking = PDB.replace("maxUnavailable: 1", "maxUnavailable: 0")
    run = check(write(tmp_path, {"deployment.yaml": DEPLOYMENT, "pdb.yaml": blocking}))
    assert where(run, "ZK304") == [("pdb.yaml", line_of(blocking, "maxUnavailable"))]
    (finding,) = [f for f in findings(run) if f.code == "ZK304"]
    assert finding.span.column == 3


def test_per_file_ignores_apply_to_the_file_a_cross_file_finding_lands_in(tmp_path):
    folder = write(tmp_path, {"deployment.yaml": DEPLOYMENT, "service.yaml": SERVICE})
    assert where(check(folder, per_file_ignores={"service.yaml": ("ZK101",)}), "ZK101") != []
    assert where(check(folder, per_file_ignores={"deployment.yaml": ("ZK101",)}), "ZK101") == []


def test_a_manifest_outside_the_diff_is_still_context_for_the_changed_one(tmp_path):
    folder = write(tmp_path, {"deployment.yaml": DEPLOYMENT, "service.yaml": SERVICE})
    run = lint_paths(
        [str(folder)],
        Settings(),
        load_catalogue(),
        only={(folder / "deployment.yaml").resolve()},
    )
    assert [Path(r.path).name for r in run.reports] == ["deployment.yaml"]
    assert where(run, "ZK101") == [("deployment.yaml", line_of(DEPLOYMENT, "- name: web"))]


def test_the_cache_gives_the_same_cross_file_findings_and_sees_a_sibling_change(tmp_path):
    from zdlint.cache import FindingsCache

    folder = write(tmp_path / "m", {"deployment.yaml": DEPLOYMENT, "service.yaml": SERVICE})
    cache_dir = tmp_path / "cache"

    def cached() -> LintRun:
        import os

        os.environ["ZDLINT_CACHE_DIR"] = str(cache_dir)
        try:
            cache = FindingsCache.open(load_catalogue().fingerprint, "test")
            return lint_paths([str(folder)], Settings(), load_catalogue(), cache=cache)
        finally:
            del os.environ["ZDLINT_CACHE_DIR"]

    assert where(cached(), "ZK101") == where(cached(), "ZK101") != []
    (folder / "service.yaml").unlink()
    (folder / "other.yaml").write_text(SERVICE.replace("app: web", "app: api"))
    assert where(cached(), "ZK101") == []


def test_a_helm_template_file_gets_one_unrendered_template_finding_not_one_per_document(
    tmp_path,
):
    templated = DEPLOYMENT.replace("replicas: 3", "replicas: {{ .Values.replicas }}")
    text = templated + "---\n" + SERVICE.replace("app: web", "app: {{ .Values.app }}")
    run = check(write(tmp_path, {"chart.yaml": text}))
    assert where(run, "ZK002") == [("chart.yaml", line_of(text, "{{ .Values.replicas }}"))]
