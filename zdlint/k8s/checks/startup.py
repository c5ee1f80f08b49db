"""ZK105/ZK106: probes that kill a slow boot before it finishes."""

from __future__ import annotations

from collections.abc import Iterator

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.options import K8sOptions
from zdlint.k8s.probes import boot_seconds, probe


def liveness_without_startup(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    """ZK105: liveness guards the boot, and its budget is shorter than the boot may take."""
    for workload in scope.workloads:
        boot = boot_seconds(workload.template, options)
        for container in workload.template.containers:
            liveness = probe(container, "livenessProbe")
            if liveness is None or probe(container, "startupProbe") is not None:
                continue
            if boot is not None and liveness.budget >= boot:
                continue
            declared = f" (the declared boot takes {boot}s)" if boot is not None else ""
            yield flag(
                workload.obj,
                workload.template.container_span(container, "livenessProbe"),
                object=workload.obj.ref,
                container=container.name,
                budget=liveness.budget,
                formula=liveness.budget_formula,
                declared=declared,
            )


def startup_budget(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    """ZK106: the startupProbe gives up before the declared boot time."""
    for workload in scope.workloads:
        boot = boot_seconds(workload.template, options)
        if boot is None:
            continue
        for container in workload.template.containers:
            startup = probe(container, "startupProbe")
            if startup is None or startup.budget >= boot:
                continue
            yield flag(
                workload.obj,
                workload.template.container_span(container, "startupProbe"),
                object=workload.obj.ref,
                container=container.name,
                budget=startup.budget,
                formula=startup.budget_formula,
                boot=boot,
                threshold=-(
                    -(boot - startup.seconds("initialDelaySeconds"))
                    // max(startup.seconds("periodSeconds"), 1)
                ),
            )


CHECKS = [("ZK105", liveness_without_startup), ("ZK106", startup_budget)]
