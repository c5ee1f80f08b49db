"""ZK103: liveness and readiness probing the same endpoint restart pods that are only busy."""

from __future__ import annotations

from collections.abc import Iterator

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.options import K8sOptions
from zdlint.k8s.probes import probe


def check(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    for workload in scope.workloads:
        for container in workload.template.containers:
            readiness = probe(container, "readinessProbe")
            liveness = probe(container, "livenessProbe")
            if readiness is None or liveness is None or liveness.endpoint is None:
                continue
            if liveness.endpoint == readiness.endpoint:
                yield flag(
                    workload.obj,
                    workload.template.container_span(container, "livenessProbe"),
                    object=workload.obj.ref,
                    container=container.name,
                    endpoint=liveness.description,
                )


CHECKS = [("ZK103", check)]
