"""ZK207: `spec.replicas` on a workload an autoscaler scales: each apply resets the scale."""

from __future__ import annotations

from collections.abc import Iterator

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.model import integer
from zdlint.k8s.options import K8sOptions


def check(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    for workload in scope.workloads:
        hpa = scope.autoscaler_of(workload)
        if hpa is None or not workload.obj.has("spec", "replicas"):
            continue
        replicas = integer(workload.obj.get("spec", "replicas"))
        yield flag(
            workload.obj,
            workload.obj.span("spec", "replicas"),
            object=workload.obj.ref,
            replicas=workload.obj.get("spec", "replicas") if replicas is None else replicas,
            autoscaler=hpa.obj.ref,
            floor=hpa.min_replicas,
        )


CHECKS = [("ZK207", check)]
