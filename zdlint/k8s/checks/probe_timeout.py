"""ZK109: a probe whose timeout is longer than its period stretches its own period."""

from __future__ import annotations

from collections.abc import Iterator

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.options import K8sOptions
from zdlint.k8s.probes import probes


def check(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    for workload in scope.workloads:
        for container in workload.template.containers:
            for p in probes(container):
                timeout, period = p.seconds("timeoutSeconds"), p.seconds("periodSeconds")
                if timeout > period:
                    yield flag(
                        workload.obj,
                        workload.template.container_span(container, p.kind, "timeoutSeconds"),
                        object=workload.obj.ref,
                        container=container.name,
                        probe=p.kind,
                        timeout=timeout,
                        period=period,
                        threshold=p.seconds("failureThreshold"),
                        slow=p.seconds("failureThreshold") * timeout,
                        fast=p.seconds("failureThreshold") * period,
                    )


CHECKS = [("ZK109", check)]
