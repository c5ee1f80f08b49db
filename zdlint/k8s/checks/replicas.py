"""ZK205: a single replica means every rollout, eviction or crash is an outage."""

from __future__ import annotations

from collections.abc import Iterator

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.model import DAEMON_SET
from zdlint.k8s.options import K8sOptions


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
                )
            continue
        replicas = workload.replicas
        if replicas is None or replicas == 0 or replicas >= 2:
            continue  # 0: deliberately scaled down (an idle colour, a paused service)
        declared = workload.obj.has("spec", "replicas")
        yield flag(
            workload.obj,
            workload.obj.first_span(("spec", "replicas")),
            object=workload.obj.ref,
            source=f"replicas {replicas}" if declared else "replicas not set, so 1",
            target=workload.obj.ref,
        )


CHECKS = [("ZK205", check)]
