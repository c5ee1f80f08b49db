"""ZK208, ZK210 and ZK211 (issue 14): spreading replicas, removed apiVersions, and surge
rollouts whose new pod cannot run beside the old one. (ZK206 covers floating tags.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support import lint
from tests.test_k8s_rules import AUTOSCALER as HPA
from tests.test_k8s_rules import codes, found, web
from zdlint.catalogue import load_catalogue
from zdlint.cli import main
from zdlint.config import ConfigError, parse_settings

SPREAD = """      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              app: web
"""


# --- ZK208: replicas not spread --------------------------------------------------------


def test_the_tutorial_spreads_its_replicas_and_is_quiet():
    assert "ZK208" not in codes(web())


def test_replicas_without_spread_or_anti_affinity_are_flagged_with_their_count():
    (message,) = [m for c, m in found(web((SPREAD, ""))) if c == "ZK208"]
    assert message.startswith("Deployment/web runs 3 replicas with no topologySpreadConstraints")


def test_a_spread_constraint_that_selects_other_pods_does_not_count():
    other = SPREAD.replace("app: web", "app: billing")
    assert "ZK208" in codes(web((SPREAD, other)))


def test_preferred_anti_affinity_on_its_own_pods_counts():
    anti = """      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: topology.kubernetes.io/zone
                labelSelector:
                  matchExpressions:
                    - {key: app, operator: In, values: [web]}
"""
    assert "ZK208" not in codes(web((SPREAD, anti)))


def test_one_replica_is_not_spread_but_an_autoscaler_floor_of_two_is():
    single = web((SPREAD, ""), ("  replicas: 3\n", "  replicas: 1\n"))
    assert "ZK208" not in codes(single)
    assert "ZK208" in codes(single + HPA % 2)


# --- ZK210: removed apiVersions ----------------------------------------------------------

INGRESS = """apiVersion: %s
kind: Ingress
metadata:
  name: web
spec:
  defaultBackend:
    service: {name: web, port: {number: 80}}
"""


@pytest.mark.parametrize(
    ("api_version", "kind", "removed_in", "instead"),
    [
        ("extensions/v1beta1", "Deployment", "1.16", "apps/v1"),
        ("apps/v1beta2", "StatefulSet", "1.16", "apps/v1"),
        ("extensions/v1beta1", "Ingress", "1.22", "networking.k8s.io/v1"),
        ("networking.k8s.io/v1beta1", "Ingress", "1.22", "networking.k8s.io/v1"),
        (
            "rbac.authorization.k8s.io/v1beta1",
            "ClusterRole",
            "1.22",
            "rbac.authorization.k8s.io/v1",
        ),
        ("batch/v1beta1", "CronJob", "1.25", "batch/v1"),
        ("policy/v1beta1", "PodDisruptionBudget", "1.25", "policy/v1"),
        ("autoscaling/v2beta1", "HorizontalPodAutoscaler", "1.25", "autoscaling/v2"),
        ("autoscaling/v2beta2", "HorizontalPodAutoscaler", "1.26", "autoscaling/v2"),
    ],
)
def test_removed_api_versions_of_every_kind_are_flagged(api_version, kind, removed_in, instead):
    text = f"apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: x\nspec: {{}}\n"
    findings = [f for f in lint(text, "x.yaml") if f.code == "ZK210"]
    assert len(findings) == 1 and findings[0].span.line == 1
    assert f"stopped serving in {removed_in}" in findings[0].message
    assert f"apiVersion: {instead}`" in str(findings[0].help)


def test_the_target_release_decides_what_is_removed():
    text = INGRESS % "networking.k8s.io/v1beta1"
    assert "ZK210" not in codes(text, k8s_version=(1, 21))
    assert "ZK210" in codes(text, k8s_version=(1, 22))
    hpa = HPA.removeprefix("---\n").replace("autoscaling/v2", "autoscaling/v2beta2") % 2
    assert "ZK210" not in codes(hpa, k8s_version=(1, 25))
    assert "ZK210" in codes(hpa)  # the default release is 1.31


def test_a_kind_whose_replacement_was_removed_too_has_none():
    text = "apiVersion: extensions/v1beta1\nkind: PodSecurityPolicy\nmetadata:\n  name: x\n"
    (finding,) = lint(text, "psp.yaml")
    assert "PodSecurityPolicy has no replacement" in str(finding.help)


def test_current_api_versions_pass():
    assert codes(INGRESS % "networking.k8s.io/v1", k8s_version=(1, 33)) == []


def test_k8s_version_comes_from_the_config_file_and_the_command_line(tmp_path):
    catalogue = load_catalogue()
    settings = parse_settings({"k8s-version": "1.21"}, catalogue, "zdlint.toml", tmp_path, None)
    assert settings.k8s_version == (1, 21)
    with pytest.raises(
        ConfigError, match='k8s-version: 1.3 is not a Kubernetes release; write it as "1.31"'
    ):
        parse_settings({"k8s-version": 1.3}, catalogue, "zdlint.toml", tmp_path, None)
    manifest = tmp_path / "ingress.yaml"
    manifest.write_text(INGRESS % "networking.k8s.io/v1beta1")
    runner = CliRunner()
    old = runner.invoke(main, ["check", "--isolated", "--k8s-version", "v1.21.4", str(manifest)])
    assert old.exit_code == 0, old.output
    new = runner.invoke(main, ["check", "--isolated", str(manifest)])
    assert new.exit_code == 1 and "ZK210" in new.output
    bad = runner.invoke(main, ["check", "--isolated", "--k8s-version", "latest", str(manifest)])
    assert bad.exit_code == 2 and "--k8s-version" in bad.output


# --- ZK211: a surge rollout that cannot place its new pod -----------------------------------


def single_web(*changes: tuple[str, str]) -> str:
    return web(("  replicas: 3\n", "  replicas: 1\n"), *changes)


HOST_PORT = (
    "            - name: http\n              containerPort: 8080\n",
    "            - name: http\n              containerPort: 8080\n              hostPort: 80\n",
)


def test_a_host_port_with_a_surge_rollout_is_flagged():
    (message,) = [m for c, m in found(single_web(HOST_PORT)) if c == "ZK211"]
    assert "binds hostPort 80 (container `web`)" in message
    assert "cannot run on a node that still runs an old one" in message


def test_a_host_port_whose_rollout_stops_the_old_pod_first_is_quiet():
    stop_first = single_web(
        HOST_PORT,
        ("      maxUnavailable: 0\n", "      maxUnavailable: 1\n"),
        ("      maxSurge: 1\n", "      maxSurge: 0\n"),
    )
    assert "ZK211" not in codes(stop_first)


def volume(mode: str) -> str:
    mount = "          volumeMounts:\n            - {name: data, mountPath: /data}\n"
    claim = f"""---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [{mode}]
  resources: {{requests: {{storage: 1Gi}}}}
"""
    text = single_web(("          resources:\n", mount + "          resources:\n"))
    deployment, rest = text.split("\n---\n", 1)
    volumes = (
        "      volumes:\n        - name: data\n          persistentVolumeClaim: {claimName: data}\n"
    )
    return deployment.rstrip("\n") + "\n" + volumes + "---\n" + rest + claim


@pytest.mark.parametrize(
    ("mode", "flagged", "words"),
    [
        ("ReadWriteOnce", True, "waits in ContainerCreating"),
        ("ReadWriteOncePod", True, "only one pod may use"),
        ("ReadWriteMany", False, None),
    ],
)
def test_a_single_writer_volume_with_a_surge_rollout(mode, flagged, words):
    messages = [m for c, m in found(volume(mode)) if c == "ZK211"]
    assert bool(messages) is flagged
    if flagged:
        assert f"mounts the {mode} claim `data`" in messages[0] and words in messages[0]


def test_a_daemon_set_that_surges_with_a_host_port_never_progresses():
    daemon = """apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  updateStrategy:
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels: {app: agent}
    spec:
      hostNetwork: true
      containers:
        - name: agent
          image: example.com/agent:1.2.3
          resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {memory: 64Mi}}
"""
    (message,) = [m for c, m in found(daemon) if c == "ZK211"]
    assert "uses hostNetwork" in message and "stalls on the first node" in message
    no_surge = daemon.replace("{maxSurge: 1, maxUnavailable: 0}", "{maxUnavailable: 1}")
    assert "ZK211" not in codes(no_surge)


def test_new_rules_have_their_catalogue_pages():
    rules = {rule.code: rule for rule in load_catalogue()}
    docs = Path(__file__).resolve().parents[1] / "docs" / "rules"
    for code in ("ZK208", "ZK210", "ZK211"):
        assert rules[code].enabled and (docs / f"{code}.md").is_file(), code
