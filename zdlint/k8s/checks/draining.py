"""ZK301/ZK302: pods behind a Service must keep serving until the endpoints forget them."""

from __future__ import annotations

import re
from collections.abc import Iterator

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.model import Container, dig, integer
from zdlint.k8s.options import K8sOptions

# `sleep 10`, `sleep 10s`, `/bin/sleep 5`, inside `sh -c` scripts too.
_SLEEP = re.compile(r"(?:^|[\s;&|(/])sleep\s+(\d+(?:\.\d+)?)([smh]?)(?![\w.])")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600}


def prestop_sleep(container: Container) -> int | None:
    """Seconds the preStop hook waits; None when there is no hook or it does not sleep."""
    hook = container.get("lifecycle", "preStop")
    if not isinstance(hook, dict):
        return None
    native = integer(dig(hook, "sleep", "seconds"))
    if native is not None:
        return native
    command = dig(hook, "exec", "command")
    if not isinstance(command, list):
        return None
    script = " ".join(str(word) for word in command)
    sleeps = [float(m.group(1)) * _UNIT[m.group(2)] for m in _SLEEP.finditer(script)]
    return round(sum(sleeps)) if sleeps else None


def missing_prestop(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    """ZK301: no preStop hook on a container that receives a Service's traffic."""
    for workload in scope.workloads:
        services = scope.services_of(workload)
        if not services:
            continue
        for container in scope.serving_containers(workload):
            if not isinstance(container.get("lifecycle", "preStop"), dict):
                yield flag(
                    workload.obj,
                    workload.template.container_span(container, "lifecycle"),
                    object=workload.obj.ref,
                    container=container.name,
                    service=services[0].obj.ref,
                )


def grace_period(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    """ZK302: the grace period ends before the preStop sleep and the drain are over."""
    for workload in scope.workloads:
        template = workload.template
        sleeps = [(s, c) for c in template.containers if (s := prestop_sleep(c)) is not None]
        if not sleeps:
            continue
        sleep, container = max(sleeps, key=lambda item: item[0])
        grace = template.termination_grace_seconds
        if grace > sleep + options.drain_seconds:
            continue
        explicit = template.obj.has(*template.path, "spec", "terminationGracePeriodSeconds")
        yield flag(
            workload.obj,
            template.span("spec", "terminationGracePeriodSeconds")
            if explicit
            else template.container_span(container, "lifecycle", "preStop"),
            object=workload.obj.ref,
            container=container.name,
            grace=grace,
            default="" if explicit else " (the default terminationGracePeriodSeconds)",
            sleep=sleep,
            drain=options.drain_seconds,
            needed=sleep + options.drain_seconds + 1,
        )


CHECKS = [("ZK301", missing_prestop), ("ZK302", grace_period)]
