"""ZK201: strategy Recreate stops every pod before the new ones start."""

from __future__ import annotations

from collections.abc import Iterator

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.model import DEPLOYMENT
from zdlint.k8s.options import K8sOptions


def check(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    for workload in scope.workloads:
        recreate = workload.obj.get("spec", "strategy", "type") == "Recreate"
        if workload.kind != DEPLOYMENT or not recreate:
            continue
        services = scope.services_of(workload)
        if services:
            yield flag(
                workload.obj,
                workload.obj.span("spec", "strategy", "type"),
                object=workload.obj.ref,
                service=services[0].obj.ref,
            )


CHECKS = [("ZK201", check)]
