"""ZK401/ZK402: a Service selector that matches no workload, or several."""

from __future__ import annotations

from collections.abc import Iterator

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.options import K8sOptions


def _selector_text(selector: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in selector.items())


def selects_nothing(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    """ZK401: nothing in this scope carries the labels the Service selects."""
    if not scope.pod_labels:
        return  # a Service kept apart from its workloads: nothing to compare with
    for service in scope.services:
        if service.selector and not scope.selects_any_pod(service):
            yield flag(
                service.obj,
                service.obj.first_span(("spec", "selector")),
                object=service.obj.ref,
                selector=_selector_text(service.selector),
            )


def selects_several(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    """ZK402: one Service in front of several workloads (a blue/green pair is ZK403)."""
    for service in scope.services:
        backends = scope.backends(service)
        if len(backends) < 2:
            continue
        pair = scope.pair_of(backends[0])
        if pair is not None and set(backends) == {pair.first[1], pair.second[1]}:
            continue
        yield flag(
            service.obj,
            service.obj.first_span(("spec", "selector")),
            object=service.obj.ref,
            selector=_selector_text(service.selector),
            workloads=", ".join(w.obj.ref for w in backends),
        )


CHECKS = [("ZK401", selects_nothing), ("ZK402", selects_several)]
