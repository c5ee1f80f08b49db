"""ZK205: a single replica means a node drain or a crash is an outage (and some rollouts)."""

from __future__ import annotations

from collections.abc import Iterator

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.checks.rolling_update import surges_first
from zdlint.k8s.graph import Scope
from zdlint.k8s.model import DAEMON_SET, Workload
from zdlint.k8s.options import K8sOptions

SCALE_OUT = "Run at least 2 replicas (minReplicas 2 with an autoscaler), with a PodDisruptionBudget"
PLAN_DOWNTIME = (
    "More replicas of this pod would not share its volume: plan for the downtime (drain its "
    "node on purpose, in a window) or run the store replicated (an operator, a primary with "
    "replicas)"
)


def check(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    for workload in scope.workloads:
        if workload.kind == DAEMON_SET:
            continue
        hpa = scope.autoscaler_of(workload)
        if hpa is not None:
            if hpa.min_replicas < 2:
                yield flag(
                    hpa.obj,
                    hpa.obj.first_span(("spec", "minReplicas"), ("spec", "scaleTargetRef")),
                    object=hpa.obj.ref,
                    source=f"minReplicas {hpa.min_replicas} in {hpa.obj.ref}",
                    target=workload.obj.ref,
                    cost=_cost(workload, hpa.min_replicas),
                    advice=SCALE_OUT,
                )
            continue
        replicas = workload.replicas
        if replicas is None or replicas == 0 or replicas >= 2:
            continue  # 0: deliberately scaled down (an idle colour, a paused service)
        declared = workload.obj.has("spec", "replicas")
        stateful = keeps_state(workload)
        yield flag(
            workload.obj,
            workload.obj.first_span(("spec", "replicas")),
            object=workload.obj.ref,
            source=f"replicas {replicas}" if declared else "replicas not set, so 1",
            target=workload.obj.ref,
            cost=_stateful_cost(workload) if stateful else _cost(workload, replicas),
            advice=PLAN_DOWNTIME if stateful else SCALE_OUT,
        )


def keeps_state(workload: Workload) -> bool:
    """The pod keeps its data on a persistent volume: a claim template or a named claim."""
    if workload.obj.get("spec", "volumeClaimTemplates"):
        return True
    volumes = workload.template.spec.get("volumes")
    return isinstance(volumes, list) and any(
        isinstance(v, dict) and isinstance(v.get("persistentVolumeClaim"), dict) for v in volumes
    )


def _cost(workload: Workload, replicas: int) -> str:
    if surges_first(workload, replicas):
        return (
            "a node drain or a crash leaves it with no ready pod until a replacement starts "
            "(its rollouts start the new pod first, so they do not)"
        )
    return "every rollout, node drain or crash leaves it with no ready pod"


def _stateful_cost(workload: Workload) -> str:
    return (
        "it keeps its data on a volume, so every node drain, crash or rollout stops it until "
        "its one pod is running again with that volume attached"
    )


CHECKS = [("ZK205", check)]
