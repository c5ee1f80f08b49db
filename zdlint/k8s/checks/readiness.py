"""ZK101: a container behind a Service without a readinessProbe gets traffic too early."""

from __future__ import annotations

from collections.abc import Iterator

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.options import K8sOptions
from zdlint.k8s.probes import probe


def check(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    for workload in scope.workloads:
        services = scope.services_of(workload)
        if not services:
            continue
        for container in scope.serving_containers(workload):
            if probe(container, "readinessProbe") is None:
                yield flag(
                    workload.obj,
                    workload.template.container_span(container),
                    object=workload.obj.ref,
                    container=container.name,
                    service=services[0].obj.ref,
                )


CHECKS = [("ZK101", check)]
