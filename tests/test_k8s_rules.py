"""What the Kubernetes rules decide, case by case, starting from the tutorial's clean web.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import lint
from zdlint.catalogue import load_catalogue
from zdlint.config import ConfigError, parse_settings
from zdlint.k8s.options import k8s_options

WEB = (
    Path(__file__).resolve().parents[1] / "fixtures" / "k8s" / "tutorial" / "web.yaml"
).read_text()
READINESS = """          readinessProbe:
            httpGet:
              path: /ready
              port: http
"""
LIVENESS = """          livenessProbe:
            httpGet:
              path: /healthz
              port: http
"""
ROLLING = """  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
"""
PRESTOP = """          lifecycle:
            preStop:
              exec:
                command: ["sleep", "10"]
"""


def web(*changes: tuple[str, str]) -> str:
    text = WEB
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def found(text: str, **settings: object) -> list[tuple[str, str]]:
    return [(f.code, f.message) for f in lint(text, "web.yaml", **settings)]


def codes(text: str, **settings: object) -> list[str]:
    return [code for code, _ in found(text, **settings)]


def rolling(max_unavailable: str, max_surge: str, replicas: int) -> str:
    return web(
        ("  replicas: 3\n", f"  replicas: {replicas}\n"),
        ("      maxUnavailable: 0\n", f"      maxUnavailable: {max_unavailable}\n"),
        ("      maxSurge: 1\n", f"      maxSurge: {max_surge}\n"),
    )


AUTOSCALER = """---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: %d
  maxReplicas: 10
"""


# --- rollout arithmetic ------------------------------------------------------------


def test_max_unavailable_percentage_rounds_down_against_replicas():
    assert codes(rolling("25%", "25%", 3)) == []  # 0.75 pods rounds down to 0
    ((code, message),) = found(rolling("50%", "25%", 3))
    assert code == "ZK202"
    assert "may stop 1 of its 3 pods" in message
    assert "maxUnavailable 50% resolves to 1, maxSurge 25% to 1" in message


def test_default_fenceposts_are_25_percent_and_hurt_from_four_replicas():
    text = web(("  replicas: 3\n", "  replicas: 8\n"), (ROLLING, ""))
    ((code, message),) = found(text)
    assert code == "ZK202"
    assert "maxUnavailable 25% resolves to 2" in message and "only 6 serve traffic" in message


def test_when_both_fenceposts_round_to_zero_the_controller_lets_one_pod_go():
    ((code, message),) = found(rolling("10%", "0", 3))
    assert code == "ZK202"
    assert "Kubernetes lets 1 pod go unavailable" in message


def test_max_surge_rounds_up_so_a_small_percentage_still_adds_a_pod():
    assert codes(rolling("0", "10%", 3)) == []


def test_zero_and_zero_is_rejected_by_kubernetes():
    assert codes(rolling("0%", "0", 3)) == ["ZK203"]


def test_an_autoscaler_floor_replaces_the_replicas():
    hpa = AUTOSCALER
    unset = web(("  replicas: 3\n", ""))  # the autoscaler owns the count
    assert codes(unset + hpa % 4) == []
    ((code, message),) = found(unset + hpa % 1)
    assert code == "ZK205"
    assert message.startswith("Deployment/web runs a single pod (minReplicas 1 in")


def test_replicas_pinned_on_an_autoscaled_workload_is_flagged_not_counted():
    hpa = """---
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 4
  maxReplicas: 10
"""
    single = web(("  replicas: 3\n", "  replicas: 1\n")) + hpa
    # the floor is minReplicas 4, so no single-replica finding; the pinned 1 is the problem
    ((code, message),) = found(single)
    assert code == "ZK207"
    assert message == (
        "Deployment/web sets spec.replicas to 1 while HorizontalPodAutoscaler/web scales it:"
        " every apply resets the running scale to 1 until the autoscaler corrects it"
    )


# --- probes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "handler",
    [
        "httpGet: {path: /healthz/, port: 8080}",  # the named port `http` is 8080
        "tcpSocket: {port: http}",
        "grpc: {port: 8080}",
        "exec: {command: [cat, /tmp/healthy]}",
    ],
)
def test_liveness_identical_to_readiness_is_flagged_for_every_handler(handler):
    text = web(
        (
            READINESS,
            f"          readinessProbe:\n            {handler.replace('/healthz/', '/healthz')}\n",
        ),
        (LIVENESS, f"          livenessProbe:\n            {handler}\n"),
    )
    assert "ZK103" in codes(text)


def test_a_different_grpc_service_name_is_a_different_check():
    text = web(
        (READINESS, "          readinessProbe:\n            grpc: {port: 8080, service: ready}\n"),
        (LIVENESS, "          livenessProbe:\n            grpc: {port: 8080}\n"),
    )
    assert "ZK103" not in codes(text)


@pytest.mark.parametrize(
    ("command", "dependency"),
    [
        ('["pg_isready", "-h", "localhost"]', None),
        ('["pg_isready", "-h", "postgres.db"]', "`pg_isready` against `postgres.db`"),
        ('["sh", "-c", "curl -fsS http://127.0.0.1:8080/healthz"]', None),
        ('["sh", "-c", "curl -fsS http://billing.svc/health"]', "`curl` against `billing.svc`"),
        ('["psql", "postgresql://app@db.internal/app", "-c", "select 1"]', "`db.internal`"),
    ],
)
def test_liveness_exec_against_another_host_is_a_dependency_check(command, dependency):
    text = web(
        (
            LIVENESS,
            f"          livenessProbe:\n            exec:\n              command: {command}\n",
        )
    )
    messages = [m for c, m in found(text) if c == "ZK104"]
    if dependency is None:
        assert messages == []
    else:
        assert len(messages) == 1 and dependency in messages[0]


def test_boot_time_comes_from_the_pod_template_annotation_then_the_workload_then_config():
    # The tutorial declares 40s on the workload; its startup budget is 60s.
    assert codes(web(), k8s={"boot-seconds": 500}) == []
    slow = web(('zdlint.io/boot-seconds: "40"', 'zdlint.io/boot-seconds: "90"'))
    ((code, message),) = found(slow)
    assert code == "ZK106"
    assert "gives up after 60s" in message and "the boot takes 90s" in message
    unannotated = web(('    zdlint.io/boot-seconds: "40"\n', "    team: shop\n"))
    assert codes(unannotated, k8s={"boot-seconds": 120}) == ["ZK106"]
    assert codes(unannotated) == []


def test_liveness_that_covers_the_declared_boot_needs_no_startup_probe():
    startup = """          startupProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 2
            failureThreshold: 30
"""
    without_startup = web((startup, ""))
    # ZK105 is off by default: it is checked here as a team that enables it would
    assert codes(without_startup, extend_select=("ZK105",)) == ["ZK105"]  # 30s budget, 40s boot
    patient = without_startup.replace(
        "            periodSeconds: 10\n            failureThreshold: 3\n",
        "            periodSeconds: 10\n            failureThreshold: 5\n",
    )
    assert codes(patient, extend_select=("ZK105",)) == []


# --- draining -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hook",
    [
        'exec: {command: ["sleep", "40"]}',
        'exec: {command: ["/bin/sh", "-c", "sleep 40 && nginx -s quit"]}',
        "sleep: {seconds: 40}",
    ],
)
def test_every_form_of_prestop_sleep_counts_against_the_grace_period(hook):
    text = web((PRESTOP, f"          lifecycle:\n            preStop:\n              {hook}\n"))
    ((code, message),) = found(text)
    assert code == "ZK302"
    assert "gives its pods 45s to stop" in message and "sleeps 40s" in message
    assert codes(text, k8s={"drain-seconds": 4}) == []


def test_the_default_grace_period_is_30_seconds():
    text = web(
        ("      terminationGracePeriodSeconds: 45\n", ""), ('"sleep", "10"', '"sleep", "25"')
    )
    ((code, message),) = found(text)
    assert code == "ZK302" and "30s to stop (the default" in message


# --- scope: services, budgets, blue/green ----------------------------------------------


def test_a_service_or_budget_in_a_file_without_workloads_is_not_judged():
    service, budget = WEB.split("\n---\n")[1:]
    assert lint(service, "service.yaml") == []
    assert lint(budget, "pdb.yaml") == []


def test_a_service_only_selects_workloads_in_its_own_namespace():
    text = web(
        ("  name: web\nspec:\n  selector:", "  name: web\n  namespace: other\nspec:\n  selector:")
    )
    text = text.replace("  name: web\n  labels:", "  name: web\n  namespace: shop\n  labels:")
    assert "ZK401" in codes(text)


def test_deployments_differing_by_a_non_colour_value_are_not_a_blue_green_pair():
    deployment = WEB.split("\n---\n")[0]
    pod_labels = "      labels:\n        app: web\n"
    v1 = deployment.replace(pod_labels, pod_labels + "        version: v1\n")
    v2 = v1.replace("version: v1", "version: v2").replace("  name: web\n", "  name: web-v2\n")
    assert codes(WEB.replace(deployment, v1) + "\n---\n" + v2) == ["ZK402"]
    blue_green = v2.replace("version: v2", "version: green")
    assert codes(WEB.replace(deployment, v1.replace("v1", "blue")) + "\n---\n" + blue_green) == [
        "ZK403"
    ]


def test_a_budget_that_insists_on_every_pod_blocks_drains():
    for setting, blocked in [
        ("minAvailable: 100%", True),
        ("minAvailable: 3", True),
        ("minAvailable: 2", False),
        ("maxUnavailable: 0%", True),
        ("maxUnavailable: 10%", False),
    ]:
        text = web(("  maxUnavailable: 1\n  selector:", f"  {setting}\n  selector:"))
        assert ("ZK304" in codes(text)) is blocked, setting


# --- images and jobs -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "flagged"),
    [
        ("registry.example.com:5000/shop/web", True),
        ("registry.example.com:5000/shop/web:2.14.1", False),
        ("web:latest", True),
        ("web@sha256:" + "a" * 64, False),
    ],
)
def test_image_tags(image, flagged):
    text = web(("registry.example.com/shop/web:2.14.1", image))
    assert ("ZK206" in codes(text)) is flagged


def test_a_job_that_is_not_a_migration_may_retry():
    job = """apiVersion: batch/v1
kind: Job
metadata:
  name: nightly-report
spec:
  template:
    spec:
      restartPolicy: OnFailure
      containers:
        - name: report
          image: example.com/report:1.0
          resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 64Mi}}
"""
    assert lint(job, "job.yaml") == []
    flyway = job.replace("example.com/report:1.0", "flyway/flyway:10.0")
    assert [f.code for f in lint(flyway, "job.yaml")] == ["ZK501", "ZK502"]


# --- suppressions and configuration ------------------------------------------------------


def test_an_annotation_suppresses_findings_by_code_or_name():
    single = web(("  replicas: 3\n", "  replicas: 1\n"), ("  minReadySeconds: 15\n", ""))
    assert sorted(codes(single, extend_select=("ZK204",))) == ["ZK204", "ZK205"]
    annotated = single.replace(
        '    zdlint.io/boot-seconds: "40"\n',
        '    zdlint.io/boot-seconds: "40"\n'
        '    zdlint.io/ignore: "ZK205 staging runs one pod, missing-min-ready-seconds"\n',
    )
    assert codes(annotated, extend_select=("ZK204",)) == []


def test_a_suppression_that_suppresses_nothing_is_reported_where_it_is_written():
    text = web(
        (
            '    zdlint.io/boot-seconds: "40"\n',
            '    zdlint.io/boot-seconds: "40"\n    zdlint.io/ignore: "ZK205, ZK999 typo"\n',
        )
    )
    findings = lint(text, "web.yaml")
    assert [f.code for f in findings] == ["ZD002", "ZD002"]
    line = text.splitlines().index('    zdlint.io/ignore: "ZK205, ZK999 typo"') + 1
    assert {f.span.line for f in findings} == {line}
    assert findings[0].message == "This suppression of `ZK205` matches no finding"
    assert findings[1].message.endswith("(no rule is called `ZK999`)")


def test_config_select_and_ignore_apply_to_kubernetes_rules():
    single = web(("  replicas: 3\n", "  replicas: 1\n"))
    assert codes(single, ignore=("ZK205",)) == []
    assert codes(web(("shop/web:2.14.1", "shop/web")), select=("ZK205",)) == []


def test_k8s_config_keys_are_validated_with_the_key_named():
    assert k8s_options({"boot-seconds": 60, "drain-seconds": 5}).boot_seconds == 60
    with pytest.raises(ConfigError, match="unknown key 'boot-second'.*did you mean 'boot-seconds'"):
        k8s_options({"boot-second": 60})
    with pytest.raises(ConfigError, match="drain-seconds must be a whole number"):
        k8s_options({"drain-seconds": "10s"})


def test_the_config_file_table_reaches_the_checker():
    settings = parse_settings(
        {"k8s": {"boot-seconds": 120}}, load_catalogue(), "zdlint.toml", Path.cwd(), None
    )
    unannotated = web(('    zdlint.io/boot-seconds: "40"\n', "    team: shop\n"))
    assert codes(unannotated, k8s=settings.k8s) == ["ZK106"]


def test_the_full_report_shows_the_yaml_line_in_its_code_frame():
    from click.testing import CliRunner

    from zdlint.cli import main

    text = web(("  replicas: 3\n", "  replicas: 1\n"))
    result = CliRunner().invoke(main, ["check", "--isolated", "-"], input=text)
    assert "ZK205" in result.output and "replicas: 1" in result.output
