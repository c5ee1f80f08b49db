"""ZK208: replicas that nothing keeps apart can all sit on one node."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.model import DAEMON_SET, PodTemplate, dig, selector_matches
from zdlint.k8s.options import K8sOptions


def check(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    for workload in scope.workloads:
        if workload.kind == DAEMON_SET:
            continue  # one pod per node by construction
        replicas = scope.least_replicas(workload)
        if replicas is None or replicas < 2 or keeps_pods_apart(workload.template):
            continue
        yield flag(
            workload.obj,
            workload.template.span("spec"),
            object=workload.obj.ref,
            replicas=replicas,
        )


def keeps_pods_apart(template: PodTemplate) -> bool:
    """A topology spread constraint or a pod anti-affinity term that selects this
    template's own pods (a term about other pods says nothing about these)."""
    spec = template.spec
    terms: list[Any] = list(_list(spec.get("topologySpreadConstraints")))
    anti = dig(spec, "affinity", "podAntiAffinity")
    terms += _list(dig(anti, "requiredDuringSchedulingIgnoredDuringExecution"))
    terms += [
        dig(preferred, "podAffinityTerm")
        for preferred in _list(dig(anti, "preferredDuringSchedulingIgnoredDuringExecution"))
    ]
    return any(
        isinstance(term, dict)
        and isinstance(term.get("topologyKey"), str)
        and selector_matches(term.get("labelSelector"), template.labels)
        for term in terms
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


CHECKS = [("ZK208", check)]
