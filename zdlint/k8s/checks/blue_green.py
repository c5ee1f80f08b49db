"""ZK403–ZK405: blue/green pairs: one colour live, both colours alike, the idle one known."""

from __future__ import annotations

from collections.abc import Iterator

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import BlueGreenPair, Scope
from zdlint.k8s.options import K8sOptions

# What must match between the colours: everything but the image is the same release.
COMPARED_FIELDS = (
    "readinessProbe",
    "livenessProbe",
    "startupProbe",
    "ports",
    "resources",
    "lifecycle",
)


def _label(pair: BlueGreenPair) -> str:
    (colour_a, a), (colour_b, b) = pair.members
    return f"{a.obj.ref} ({pair.key}={colour_a}) and {b.obj.ref} ({pair.key}={colour_b})"


def unpinned(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    """ZK403: a Service that sends traffic to both colours at once."""
    for pair in scope.pairs:
        members = {pair.first[1], pair.second[1]}
        for service in scope.services:
            if members <= set(scope.backends(service)):
                yield flag(
                    service.obj,
                    service.obj.first_span(("spec", "selector")),
                    object=service.obj.ref,
                    pair=_label(pair),
                    key=pair.key,
                    colour=pair.first[0],
                )


def asymmetric(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    """ZK404: the two colours' pod templates differ in more than the image."""
    for pair in scope.pairs:
        (_, first), (_, second) = pair.members
        theirs = {c.name: c for c in first.template.containers}
        for container in second.template.containers:
            other = theirs.get(container.name)
            if other is None:
                yield flag(
                    second.obj,
                    second.template.container_span(container),
                    object=second.obj.ref,
                    other=first.obj.ref,
                    container=container.name,
                    field="the container itself",
                )
                continue
            for field in COMPARED_FIELDS:
                if container.get(field) != other.get(field):
                    yield flag(
                        second.obj,
                        second.template.container_span(container, field),
                        object=second.obj.ref,
                        other=first.obj.ref,
                        container=container.name,
                        field=f"`{field}`",
                    )
        missing = set(theirs) - {c.name for c in second.template.containers}
        for name in sorted(missing):
            yield flag(
                second.obj,
                second.obj.first_span((*second.template.path, "spec", "containers")),
                object=second.obj.ref,
                other=first.obj.ref,
                container=name,
                field="the container itself",
            )


def idle_colour(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    """ZK405 (info): which colour is idle, and how many pods it keeps warm."""
    for pair in scope.pairs:
        live = [(colour, w) for colour, w in pair.members if scope.services_of(w)]
        if len(live) != 1:
            continue
        for colour, workload in pair.members:
            if (colour, workload) in live:
                continue
            yield flag(
                workload.obj,
                workload.obj.first_span(("spec", "replicas")),
                object=workload.obj.ref,
                key=pair.key,
                colour=colour,
                live=live[0][1].obj.ref,
                replicas=workload.replicas,
            )


CHECKS = [("ZK403", unpinned), ("ZK404", asymmetric), ("ZK405", idle_colour)]
