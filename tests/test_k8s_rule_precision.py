"""Issue 14's precision work on the Kubernetes rules: fewer false findings, true messages."""

from __future__ import annotations

import pytest

from tests.support import lint
from tests.test_k8s_rules import LIVENESS, codes, found, web
from zdlint.catalogue import load_catalogue

STATEFUL_STORE = """apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: postgres
spec:
  serviceName: postgres
  replicas: 1
  selector:
    matchLabels: {app: postgres}
  template:
    metadata:
      labels: {app: postgres}
    spec:
      containers:
        - name: postgres
          image: postgres:16.4
          resources: {requests: {cpu: 100m, memory: 256Mi}, limits: {memory: 256Mi}}
  volumeClaimTemplates:
    - metadata: {name: data}
      spec:
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 10Gi}}
"""


def liveness_exec(command: str) -> str:
    return web(
        (
            LIVENESS,
            f"          livenessProbe:\n            exec:\n              command: {command}\n",
        )
    )


# --- ZK104: local probes are not dependency checks ---------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        '["grpc_health_probe", "-addr=:8080"]',
        '["/bin/grpc_health_probe", "-addr", "localhost:5000"]',
        '["sh", "-c", "curl -fsS -H \'Host: shop.example.com\' --max-time 2 http://localhost:8080/"]',
        '["wget", "-q", "-O-", "http://127.0.0.1:8080/healthz"]',
        '["pg_isready", "-h", "/var/run/postgresql", "-U", "app"]',
        '["pg_isready"]',
        '["redis-cli", "ping"]',
        '["sh", "-c", "redis-cli -h $(hostname) ping"]',
        '["nc", "-z", "-w", "2", "localhost", "6379"]',
        '["grpc_health_probe", "-addr=[::1]:9000"]',
    ],
)
def test_a_liveness_probe_that_checks_this_pod_only_is_quiet(command):
    assert "ZK104" not in codes(liveness_exec(command))


@pytest.mark.parametrize(
    ("command", "target"),
    [
        (
            '["grpc_health_probe", "-addr=billing:5000"]',
            "`grpc_health_probe` against `billing:5000`",
        ),
        ('["nc", "-z", "-w", "2", "db", "5432"]', "`nc` against `db`"),
        ('["redis-cli", "-u", "redis://cache:6379", "ping"]', "`redis-cli` against `cache`"),
    ],
)
def test_a_liveness_probe_naming_another_host_is_still_a_dependency_check(command, target):
    messages = [m for c, m in found(liveness_exec(command)) if c == "ZK104"]
    assert len(messages) == 1 and target in messages[0]


# --- ZK503: a migration gate is not a migration run ---------------------------------------


def init_container(name: str, image: str, command: str | None) -> str:
    line = f"          command: {command}\n" if command else ""
    block = f"      initContainers:\n        - name: {name}\n          image: {image}\n{line}"
    return web(("      containers:\n", block + "      containers:\n"))


@pytest.mark.parametrize(
    ("name", "image", "command"),
    [
        ("check", "shop/web:2.14.1", '["python", "manage.py", "migrate", "--check"]'),
        ("gate", "shop/web:2.14.1", '["sh", "-c", "alembic current && alembic check"]'),
        (
            "gate",
            "shop/web:2.14.1",
            '["bundle", "exec", "rails", "db:abort_if_pending_migrations"]',
        ),
        ("wait-for-migrations", "groundnuty/k8s-wait-for:v2.0", '["job", "db-migrate"]'),
        ("schema", "flyway/flyway:10.17.0", '["flyway", "validate"]'),
    ],
)
def test_an_init_container_that_waits_for_or_checks_migrations_is_a_gate(name, image, command):
    assert "ZK503" not in codes(init_container(name, image, command))


def test_an_app_started_without_migrations_is_not_migrating():
    text = web(
        ("          ports:\n", '          args: ["serve", "--skip-migrations"]\n          ports:\n')
    )
    assert "ZK503" not in codes(text)


@pytest.mark.parametrize(
    ("name", "image", "command"),
    [
        ("migrate", "shop/web:2.14.1", '["python", "manage.py", "migrate", "--noinput"]'),
        ("schema", "shop/web:2.14.1", '["sh", "-c", "migrate --check || migrate up"]'),
        ("migrate", "migrate/migrate:v4.17.0", '["-path", "/sql", "up"]'),
    ],
)
def test_an_init_container_that_runs_a_migration_is_still_flagged(name, image, command):
    assert "ZK503" in codes(init_container(name, image, command))


# --- ZK205: what a single pod costs ------------------------------------------------------


def test_a_single_pod_that_surges_first_is_not_lost_on_every_rollout():
    # one replica with the default 25%/25%: maxUnavailable rounds to 0, maxSurge to 1
    text = web(("  replicas: 3\n", "  replicas: 1\n"))
    ((message,),) = {(m,) for c, m in found(text) if c == "ZK205"}
    assert "every rollout" not in message
    assert "node drain or a crash" in message and "start the new pod first" in message


def test_a_single_pod_replaced_by_recreate_is_lost_on_every_rollout():
    text = web(
        ("  replicas: 3\n", "  replicas: 1\n"),
        (
            "    type: RollingUpdate\n    rollingUpdate:\n      maxUnavailable: 0\n",
            "    type: Recreate\n",
        ),
        ("      maxSurge: 1\n", ""),
    )
    messages = [m for c, m in found(text) if c == "ZK205"]
    assert len(messages) == 1 and "every rollout, node drain or crash" in messages[0]


def test_a_single_instance_store_gets_the_cost_of_downtime_not_scale_out_advice():
    (finding,) = [f for f in lint(STATEFUL_STORE, "db.yaml") if f.code == "ZK205"]
    assert "keeps its data on a volume" in finding.message
    assert "plan for the downtime" in str(finding.help) and "at least 2" not in str(finding.help)


# --- ZK206: placeholders are skipped, moving tags are not -----------------------------------


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ("<image>", None),
        ("${IMAGE}", None),
        ("IMAGE_PLACEHOLDER", None),
        ("{{ .Values.image }}", None),
        ("redis:alpine", "the moving tag `alpine`"),
        ("nginx:1", "the major-version tag `1`"),
        ("node:18-alpine", "the major-version tag `18-alpine`"),
        ("redis:7.2", None),
        ("registry.example.com:5000/shop/web", "no tag"),
        ("shop/web:2.14.1@sha256:" + "a" * 64, None),
    ],
)
def test_image_references(image, problem):
    text = web(("registry.example.com/shop/web:2.14.1", image))
    messages = [m for c, m in found(text) if c == "ZK206"]
    if problem is None:
        assert messages == []
    else:
        assert len(messages) == 1 and problem in messages[0]


# --- ZK002, ZK204, ZK109: one finding per file, messages true to Kubernetes -----------------


def test_an_unrendered_chart_file_is_reported_once():
    text = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
---
{{- if .Values.service.enabled }}
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
{{- end }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .Release.Name }}
"""
    assert [f.code for f in lint(text, "templates/all.yaml")] == ["ZK002"]


def test_min_ready_message_does_not_mention_a_readiness_probe_the_pod_lacks():
    text = web(
        ("  minReadySeconds: 15\n", ""),
        ("              path: /ready\n", "              path: /x\n"),
    )
    without = text.split("          readinessProbe:\n")
    no_probe = without[0] + "          readiness_unused:\n" + without[1]
    (message,) = [m for c, m in found(no_probe, extend_select=("ZK204",)) if c == "ZK204"]
    assert "the instant its containers start" in message and "readiness" not in message
    (message,) = [m for c, m in found(text, extend_select=("ZK204",)) if c == "ZK204"]
    assert "its readiness probe first passes" in message


def test_probe_timeout_message_says_checks_run_one_after_another():
    text = web(
        (
            "            periodSeconds: 5\n",
            "            periodSeconds: 5\n            timeoutSeconds: 8\n",
        )
    )
    (message,) = [m for c, m in found(text) if c == "ZK109"]
    assert "overlap" not in message
    assert "only after the previous one returned" in message and "2 × 8s = 16s, not 10s" in message


# --- defaults: what a plain run reports --------------------------------------------------


def test_advisory_rules_are_off_by_default_and_cpu_requests_are_info():
    rules = {rule.code: rule for rule in load_catalogue()}
    for code in ("ZK102", "ZK105", "ZK204"):
        assert not rules[code].enabled and rules[code].severity.label == "info", code
        assert "off by default" in rules[code].what.lower(), code
    assert rules["ZK511"].enabled and rules["ZK511"].severity.label == "warning"
    assert rules["ZK512"].enabled and rules["ZK512"].severity.label == "info"


def test_kubernetes_rules_and_shared_messages_never_speak_of_sql_to_a_manifest(tmp_path):
    for rule in load_catalogue():
        if rule.code.startswith("ZK"):
            assert "SQL" not in f"{rule.message} {rule.help}", rule.code
    manifest = tmp_path / "web.yaml"
    manifest.write_bytes(b"apiVersion: v1\nkind: Service\nmetadata:\n  name: caf\xe9\n")
    (finding,) = lint(manifest.read_bytes(), str(manifest))
    assert finding.code == "ZD003"
    assert "SQL" not in f"{finding.message} {finding.help}" and "manifests" in str(finding.help)


def test_a_probe_timeout_equal_to_its_period_fails_on_time_and_is_quiet():
    equal = "            periodSeconds: 5\n            timeoutSeconds: 5\n"
    assert "ZK109" not in codes(web(("            periodSeconds: 5\n", equal)))


def test_an_unused_suppression_on_a_manifest_speaks_of_its_annotation():
    service = """apiVersion: v1
kind: Service
metadata:
  name: web
  annotations:
    zdlint.io/ignore: "ZK401 selects nothing yet"
spec:
  selector: {app: web}
"""
    (finding,) = lint(service, "svc.yaml")
    assert finding.code == "ZD002"
    assert "SQL" not in f"{finding.message} {finding.help}"
    rule = {rule.code: rule for rule in load_catalogue()}["ZD002"]
    assert "zdlint.io/ignore" in rule.summary and "annotation" in rule.what


ROLLOUT = """apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: shop
spec:
  replicas: 1
  selector:
    matchLabels: {app: shop}
  strategy:
%s
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers:
        - name: shop
          image: example.com/shop:1.4.2
          resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 64Mi}}
"""


@pytest.mark.parametrize(
    ("strategy", "every_rollout"),
    [
        ("    blueGreen: {activeService: shop, autoPromotionEnabled: true}", False),
        ("    canary: {steps: [{setWeight: 50}]}", False),  # 25%/25% at 1 replica: surge 1
        ("    canary: {maxSurge: 0, maxUnavailable: 1}", True),
    ],
)
def test_a_single_pod_argo_rollout_names_the_rollout_only_when_it_takes_the_pod(
    strategy, every_rollout
):
    (message,) = [m for c, m in found(ROLLOUT % strategy) if c == "ZK205"]
    assert ("every rollout" in message) is every_rollout
