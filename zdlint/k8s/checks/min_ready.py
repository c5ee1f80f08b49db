"""ZK204: without minReadySeconds a pod that passes one probe and crashes still counts."""

from __future__ import annotations

from collections.abc import Iterator

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.model import integer
from zdlint.k8s.options import K8sOptions


def check(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    for workload in scope.workloads:
        if workload.replicas == 0 or integer(workload.obj.get("spec", "minReadySeconds")):
            continue
        span = workload.obj.first_span(("spec", "minReadySeconds"), ("spec", "replicas"))
        yield flag(workload.obj, span, object=workload.obj.ref)


CHECKS = [("ZK204", check)]
