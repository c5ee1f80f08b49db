"""Every pod-bearing kind is in the graph; autoscalers own their workloads' scale; JSON
manifests are manifests."""

from __future__ import annotations

import json

import yaml

from tests.support import lint
from tests.test_k8s_scope import (
    DEPLOYMENT,
    HPA,
    PDB,
    SERVICE,
    check,
    findings,
    line_of,
    where,
    write,
)


def maker(kind: str) -> str:
    """A `kind` object whose pods carry app=web."""
    if kind == "Pod":
        return (
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    app: web\n"
            "spec:\n  containers:\n    - name: web\n      image: example.com/web:1.4.2\n"
        )
    template = TEMPLATE
    if kind == "CronJob":
        nested = "\n".join("      " + line if line else line for line in template.splitlines())
        return (
            "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: web\nspec:\n"
            '  schedule: "*/5 * * * *"\n  jobTemplate:\n    spec:\n' + nested + "\n"
        )
    api = {
        "Job": "batch/v1",
        "ReplicationController": "v1",
        "ReplicaSet": "apps/v1",
        "Rollout": "argoproj.io/v1alpha1",
    }[kind]
    return f"apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: web\nspec:\n{template}"


KINDS = ["Pod", "ReplicationController", "ReplicaSet", "Job", "CronJob", "Rollout"]


def test_a_service_or_budget_selecting_any_pod_bearing_kind_selects_something(tmp_path):
    for kind in KINDS:
        text = maker(kind)
        assert yaml.safe_load(text)["kind"] == kind
        run = check(
            write(tmp_path / kind, {"pods.yaml": text, "svc.yaml": SERVICE, "pdb.yaml": PDB})
        )
        assert where(run, "ZK401") == [], kind
        assert where(run, "ZK305") == [], kind
    nothing = maker("Pod").replace("app: web", "app: api")
    run = check(write(tmp_path / "none", {"pods.yaml": nothing, "svc.yaml": SERVICE}))
    assert where(run, "ZK401") == [("svc.yaml", line_of(SERVICE, "selector"))]


def test_a_cron_job_is_checked_like_a_job():
    migration = maker("CronJob").replace(
        "name: web\n          image", "name: migrate\n          image"
    )
    migration = migration.replace("example.com/web:1.4.2", "example.com/web:latest")
    found = [f for f in lint(migration, "cron.yaml") if f.code == "ZK206"]
    assert [f.span.line for f in found] == [line_of(migration, "image:")]


ROLLOUT = """apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  replicas: 3
  strategy:
    blueGreen:
      activeService: web-active
      previewService: web-preview
  selector:
    matchLabels:
      app: web
{template}"""
TEMPLATE = DEPLOYMENT[DEPLOYMENT.index("  template:") :]  # app=web pods


def service(name: str, selector: str = "app: web") -> str:
    return SERVICE.replace("  name: web\n", f"  name: {name}\n").replace("app: web", selector)


def test_a_rollout_behind_its_active_service_needs_a_readiness_probe(tmp_path):
    rollout = ROLLOUT.format(template=TEMPLATE)
    # the preview Service selects by a hash the controller adds: its selector alone
    # matches no template, the Rollout's strategy names it all the same
    files = {
        "rollout.yaml": rollout,
        "active.yaml": service("web-active"),
        "preview.yaml": service("web-preview", "app: web-preview-hash"),
    }
    run = check(write(tmp_path, files))
    readiness = [f.message for f in findings(run) if f.code == "ZK101"]
    assert readiness and all("Rollout/web" in m for m in readiness)
    assert where(run, "ZK303") == [("rollout.yaml", line_of(rollout, "replicas"))]


def test_a_rollout_with_a_workload_ref_takes_the_deployment_s_template(tmp_path):
    rollout = ROLLOUT.format(
        template="  workloadRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: web\n"
    )
    scaled_down = DEPLOYMENT.replace("replicas: 3", "replicas: 0")
    run = check(
        write(
            tmp_path,
            {
                "rollout.yaml": rollout,
                "deployment.yaml": scaled_down,
                "svc.yaml": service("web-active"),
            },
        )
    )
    readiness = [f for f in findings(run) if f.code == "ZK101"]
    # the finding is the Rollout's, at the container in the Deployment's file
    assert [f.message.split(" has ")[0] for f in readiness] == ["Container `web` of Rollout/web"]
    assert where(run, "ZK101") == [("deployment.yaml", line_of(scaled_down, "- name: web"))]
    # the Deployment only holds the template: not a second workload behind the Service
    assert where(run, "ZK402") == []


# --- autoscalers ------------------------------------------------------------------------


def test_an_autoscaler_in_another_file_sets_the_floor(tmp_path):
    unset = DEPLOYMENT.replace("  replicas: 3\n", "")
    alone = check(write(tmp_path / "a", {"deployment.yaml": unset}))
    assert where(alone, "ZK205") == [("deployment.yaml", line_of(unset, "name: web"))]
    assert where(alone, "ZK303") == []
    files = {"deployment.yaml": unset, "hpa.yaml": HPA.format(floor=3)}
    scaled = check(write(tmp_path / "b", files))
    assert where(scaled, "ZK205") == []
    # three pods at least, and no budget: the floor comes from minReplicas
    (message,) = [f.message for f in findings(scaled) if f.code == "ZK303"]
    assert message.startswith("Deployment/web runs 3 replicas")


def test_a_low_autoscaler_floor_is_reported_on_the_autoscaler_not_as_replicas_advice(tmp_path):
    unset = DEPLOYMENT.replace("  replicas: 3\n", "")
    hpa = HPA.format(floor=1)
    run = check(write(tmp_path, {"deployment.yaml": unset, "hpa.yaml": hpa}))
    assert where(run, "ZK205") == [("hpa.yaml", line_of(hpa, "minReplicas"))]
    assert where(run, "ZK207") == []


def test_replicas_on_a_workload_an_autoscaler_in_another_file_scales(tmp_path):
    files = {"deployment.yaml": DEPLOYMENT, "hpa.yaml": HPA.format(floor=2)}
    run = check(write(tmp_path, files))
    assert where(run, "ZK207") == [("deployment.yaml", line_of(DEPLOYMENT, "replicas"))]


def test_an_autoscaling_v1_target_of_another_kind_or_name_owns_nothing(tmp_path):
    v1 = HPA.format(floor=2).replace("autoscaling/v2", "autoscaling/v1")
    run = check(write(tmp_path / "a", {"deployment.yaml": DEPLOYMENT, "hpa.yaml": v1}))
    assert where(run, "ZK207") != []
    other = v1.replace("kind: Deployment", "kind: StatefulSet")
    run = check(write(tmp_path / "b", {"deployment.yaml": DEPLOYMENT, "hpa.yaml": other}))
    assert where(run, "ZK207") == []


# --- JSON manifests -----------------------------------------------------------------------


def test_json_manifests_in_a_folder_are_checked_and_other_json_is_left_alone(tmp_path):
    deployment = json.dumps(yaml.safe_load(DEPLOYMENT), indent=2)
    run = check(
        write(
            tmp_path,
            {
                "deployment.json": deployment,
                "service.yaml": SERVICE,
                "package.json": '{"name": "web", "version": "1.0.0"}',
            },
        )
    )
    assert sorted(r.path.rsplit("/", 1)[-1] for r in run.reports) == [
        "deployment.json",
        "service.yaml",
    ]
    containers = deployment[: deployment.index('"containers"')].count("\n") + 1
    assert where(run, "ZK101") == [("deployment.json", containers + 1)]  # the container item


def test_json_on_stdin_is_read_as_a_manifest():
    from tests.test_cli import zdlint

    single = yaml.safe_load(DEPLOYMENT)
    single["spec"]["replicas"] = 1
    done = zdlint("check", "-f", "concise", "--exit-zero", "-", stdin=json.dumps(single).encode())
    out = done.stdout.decode()
    assert "ZK205" in out
    assert "ZD001" not in out and "SQL" not in out
