"""ZK107/ZK108: a probe aimed at a port the container does not declare."""

from __future__ import annotations

from collections.abc import Iterator

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.options import K8sOptions
from zdlint.k8s.probes import probes


def unknown_port_name(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    """ZK107: a named port that no container port carries: the probe can never pass."""
    for workload in scope.workloads:
        for container in workload.template.containers:
            for p in probes(container):
                port = p.port
                if not isinstance(port, str) or port.isdigit():
                    continue
                if port not in container.port_names:
                    names = ", ".join(f"`{n}`" for n in container.port_names) or "none"
                    yield flag(
                        workload.obj,
                        workload.template.container_span(
                            container, p.kind, p.handler_field or "", "port"
                        ),
                        object=workload.obj.ref,
                        container=container.name,
                        probe=p.kind,
                        port=port,
                        names=names,
                    )


def undeclared_port_number(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    """ZK108: a numbered port missing from the container's declared ports (a typo?)."""
    for workload in scope.workloads:
        for container in workload.template.containers:
            declared = container.port_numbers
            if not declared:
                continue  # nothing declared: we cannot tell what it listens on
            for p in probes(container):
                port = p.port
                if isinstance(port, bool) or not isinstance(port, (int, str)):
                    continue
                if not str(port).isdigit() or int(port) in declared:
                    continue
                yield flag(
                    workload.obj,
                    workload.template.container_span(
                        container, p.kind, p.handler_field or "", "port"
                    ),
                    object=workload.obj.ref,
                    container=container.name,
                    probe=p.kind,
                    port=int(port),
                    declared=", ".join(str(n) for n in sorted(declared)),
                )


CHECKS = [("ZK107", unknown_port_name), ("ZK108", undeclared_port_number)]
