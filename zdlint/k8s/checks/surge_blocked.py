"""ZK211: a surge rollout whose new pod cannot run beside the old one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.checks.rolling_update import resolve, surges_first
from zdlint.k8s.graph import Scope, same_namespace
from zdlint.k8s.model import (
    DAEMON_SET,
    DEPLOYMENT,
    ROLLOUT,
    K8sObject,
    Workload,
    dig,
    selector_matches,
)
from zdlint.k8s.options import K8sOptions

HOSTNAME = "kubernetes.io/hostname"
SINGLE_WRITER = ("ReadWriteOnce", "ReadWriteOncePod")
NODE_BOUND = (
    "the new pod cannot run on a node that still runs an old one, so the rollout stalls "
    "as soon as no other node has room"
)
DAEMON_BOUND = (
    "each node's new pod cannot start beside the old one it replaces, so the rollout stalls "
    "on the first node"
)
VOLUME_BOUND = (
    "the new pod cannot attach the volume while the old pod holds it (unless both land on "
    "the same node), so it waits in ContainerCreating until the rollout's deadline"
)
VOLUME_POD_BOUND = (
    "only one pod may use a ReadWriteOncePod volume, so the new pod never starts and the "
    "rollout stalls until its deadline"
)


def check(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    for workload in scope.workloads:
        surge = _surge(scope, workload)
        if surge is None:
            continue
        for span, blocker, consequence in _blockers(scope, workload):
            if workload.kind == DAEMON_SET and consequence == NODE_BOUND:
                consequence = DAEMON_BOUND
            yield flag(
                workload.obj,
                span,
                object=workload.obj.ref,
                blocker=blocker,
                surge=surge,
                consequence=consequence,
            )


def _surge(scope: Scope, workload: Workload) -> str | None:
    """How the rollout surges, described; None when it stops an old pod first."""
    if workload.kind in (DEPLOYMENT, ROLLOUT):
        replicas = scope.least_replicas(workload)
        if not replicas or not surges_first(workload, replicas):
            return None
        if isinstance(workload.obj.get("spec", "strategy", "blueGreen"), dict):
            return "blueGreen, so the new pods start before the old ones stop"
        return "maxUnavailable 0, so each new pod starts before an old one stops"
    if workload.kind == DAEMON_SET:
        rolling = workload.obj.get("spec", "updateStrategy", "rollingUpdate")
        surge = resolve(dig(rolling, "maxSurge"), 100, round_up=True)
        if surge:
            return f"maxSurge {dig(rolling, 'maxSurge')}, so each node's new pod starts first"
    return None


def _blockers(scope: Scope, workload: Workload) -> Iterator[tuple[tuple[int, int], str, str]]:
    template = workload.template
    if template.spec.get("hostNetwork") is True:
        yield template.span("spec", "hostNetwork"), "uses hostNetwork", NODE_BOUND
    bound = [
        (template.obj.span(*container.path, "ports", i, "hostPort"), host_port, container.name)
        for container in template.containers
        for i, port in enumerate(_list(container.get("ports")))
        if isinstance(host_port := dig(port, "hostPort"), int)
        and not isinstance(host_port, bool)
        and host_port
    ]
    if bound:
        ports = ", ".join(str(port) for _, port, _ in bound)
        names = list(dict.fromkeys(f"`{name}`" for _, _, name in bound))
        where = f"container{'s' if len(names) > 1 else ''} {', '.join(names)}"
        plural = "s" if len(bound) > 1 else ""
        yield bound[0][0], f"binds hostPort{plural} {ports} ({where})", NODE_BOUND
    anti = dig(
        template.spec,
        "affinity",
        "podAntiAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
    )
    for i, term in enumerate(_list(anti)):
        if dig(term, "topologyKey") == HOSTNAME and selector_matches(
            dig(term, "labelSelector"), template.labels
        ):
            span = template.span(
                "spec", "affinity", "podAntiAffinity",
                "requiredDuringSchedulingIgnoredDuringExecution", i,
            )  # fmt: skip
            yield span, "requires its pods on different nodes (podAntiAffinity)", NODE_BOUND
    for i, volume in enumerate(_list(template.spec.get("volumes"))):
        claim_name = dig(volume, "persistentVolumeClaim", "claimName")
        claim = _claim(scope, workload.obj, claim_name)
        modes = _list(dig(claim.body, "spec", "accessModes")) if claim else []
        if not modes or "ReadWriteMany" in modes or "ReadOnlyMany" in modes:
            continue
        mode = next((m for m in SINGLE_WRITER if m in modes), None)
        if mode is not None:
            span = template.span("spec", "volumes", i, "persistentVolumeClaim")
            consequence = VOLUME_POD_BOUND if mode == "ReadWriteOncePod" else VOLUME_BOUND
            yield span, f"mounts the {mode} claim `{claim_name}`", consequence


def _claim(scope: Scope, owner: K8sObject, name: Any) -> K8sObject | None:
    if not isinstance(name, str):
        return None
    for obj in scope.objects:
        if obj.kind == "PersistentVolumeClaim" and obj.name == name and same_namespace(obj, owner):
            return obj
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


CHECKS = [("ZK211", check)]
