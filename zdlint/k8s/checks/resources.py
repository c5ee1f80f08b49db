"""ZK511/ZK512: containers without memory limits or CPU requests."""

from __future__ import annotations

from collections.abc import Iterator

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.model import PodTemplate
from zdlint.k8s.options import K8sOptions


def _templates(scope: Scope) -> list[PodTemplate]:
    return [w.template for w in scope.workloads] + [j.template for j in scope.jobs]


def memory(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    """ZK511: no memory limit (a request alone does not stop a leak taking the node)."""
    for template in _templates(scope):
        for container in template.containers:
            if container.get("resources", "limits", "memory") is not None:
                continue
            request = container.get("resources", "requests", "memory") is not None
            yield flag(
                template.obj,
                template.container_span(container, "resources"),
                object=template.obj.ref,
                container=container.name,
                missing="no memory limit" if request else "no memory request or limit",
            )


def cpu(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    """ZK512: no CPU request (a limit alone sets the request to the limit)."""
    for template in _templates(scope):
        for container in template.containers:
            requests = container.get("resources", "requests", "cpu")
            limits = container.get("resources", "limits", "cpu")
            if requests is None and limits is None:
                yield flag(
                    template.obj,
                    template.container_span(container, "resources"),
                    object=template.obj.ref,
                    container=container.name,
                )


CHECKS = [("ZK511", memory), ("ZK512", cpu)]
