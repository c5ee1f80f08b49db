"""ZK204: without minReadySeconds a pod that is ready once and crashes still counts."""

from __future__ import annotations

from collections.abc import Iterator

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.model import integer
from zdlint.k8s.options import K8sOptions
from zdlint.k8s.probes import probe


def check(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    for workload in scope.workloads:
        if workload.replicas == 0 or integer(workload.obj.get("spec", "minReadySeconds")):
            continue
        containers = workload.template.containers
        probed = any(probe(c, "readinessProbe") is not None for c in containers)
        span = workload.obj.first_span(("spec", "minReadySeconds"), ("spec", "replicas"))
        yield flag(
            workload.obj,
            span,
            object=workload.obj.ref,
            ready_when="its readiness probe first passes" if probed else "its containers start",
        )


CHECKS = [("ZK204", check)]
