"""ZK102: a long-running container without a livenessProbe is never restarted when it hangs."""

from __future__ import annotations

from collections.abc import Iterator

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.options import K8sOptions
from zdlint.k8s.probes import probe


def check(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    for workload in scope.workloads:
        for container in workload.template.containers:
            if probe(container, "livenessProbe") is None:
                yield flag(
                    workload.obj,
                    workload.template.container_span(container),
                    object=workload.obj.ref,
                    container=container.name,
                )


CHECKS = [("ZK102", check)]
