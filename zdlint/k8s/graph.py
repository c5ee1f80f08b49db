"""The workload graph of one render scope (a file, or stdin).

Which Services, PodDisruptionBudgets and autoscalers point at which workloads, and
which Deployments form a blue/green pair. Relations never cross scopes: a Service in
another file is unknown here, and the checks that need the whole picture stay quiet
when a scope holds no workload at all.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from zdlint.k8s.model import (
    DEPLOYMENT,
    HPA,
    JOB,
    PDB,
    SERVICE,
    WORKLOAD_KINDS,
    Autoscaler,
    Container,
    DisruptionBudget,
    Job,
    K8sObject,
    Service,
    Workload,
    dig,
    pod_template,
    selector_matches,
    string_map,
)

K = TypeVar("K")

COLOUR_KEYS = frozenset({"color", "colour", "slot", "version", "track"})
COLOUR_PAIRS = frozenset(
    frozenset(pair)
    for pair in (
        ("blue", "green"),
        ("a", "b"),
        ("red", "black"),
        ("left", "right"),
        ("ping", "pong"),
        ("one", "two"),
    )
)


@dataclass(frozen=True, eq=False)
class BlueGreenPair:
    """Two Deployments whose pods differ only by one colour label."""

    key: str  # the colour label
    first: tuple[str, Workload]  # (colour, workload), in file order
    second: tuple[str, Workload]

    @property
    def members(self) -> tuple[tuple[str, Workload], tuple[str, Workload]]:
        return (self.first, self.second)


@dataclass(frozen=True, eq=False)
class Scope:
    objects: tuple[K8sObject, ...]
    workloads: tuple[Workload, ...]
    services: tuple[Service, ...]
    budgets: tuple[DisruptionBudget, ...]
    autoscalers: tuple[Autoscaler, ...]
    jobs: tuple[Job, ...]
    # Labels of every pod this scope would create, whatever made it (Argo Rollouts too).
    pod_labels: tuple[tuple[K8sObject, dict[str, str]], ...]
    pairs: tuple[BlueGreenPair, ...]
    service_backends: dict[Service, tuple[Workload, ...]]
    budget_coverage: dict[DisruptionBudget, tuple[Workload, ...]]
    workload_services: dict[Workload, tuple[Service, ...]]
    workload_budgets: dict[Workload, tuple[DisruptionBudget, ...]]

    def backends(self, service: Service) -> tuple[Workload, ...]:
        """The workloads whose pods a Service selects."""
        return self.service_backends.get(service, ())

    def selects_any_pod(self, service: Service) -> bool:
        wanted = service.selector.items()
        return any(
            same_namespace(obj, service.obj) and all(labels.get(k) == v for k, v in wanted)
            for obj, labels in self.pod_labels
        )

    def services_of(self, workload: Workload) -> tuple[Service, ...]:
        return self.workload_services.get(workload, ())

    def is_service_backed(self, workload: Workload) -> bool:
        return bool(self.services_of(workload))

    def covered(self, budget: DisruptionBudget) -> tuple[Workload, ...]:
        """The workloads whose pods a PodDisruptionBudget selects."""
        return self.budget_coverage.get(budget, ())

    def budgets_of(self, workload: Workload) -> tuple[DisruptionBudget, ...]:
        return self.workload_budgets.get(workload, ())

    def autoscaler_of(self, workload: Workload) -> Autoscaler | None:
        for hpa in self.autoscalers:
            if hpa.target == (workload.kind, workload.obj.name) and same_namespace(
                hpa.obj, workload.obj
            ):
                return hpa
        return None

    def least_replicas(self, workload: Workload) -> int | None:
        """The fewest pods the workload runs: the autoscaler's floor, or its replicas."""
        hpa = self.autoscaler_of(workload)
        return hpa.min_replicas if hpa is not None else workload.replicas

    def pair_of(self, workload: Workload) -> BlueGreenPair | None:
        for pair in self.pairs:
            if workload in (pair.first[1], pair.second[1]):
                return pair
        return None

    def serving_containers(self, workload: Workload) -> tuple[Container, ...]:
        """The containers that receive the Services' traffic (all of them when the
        Services' target ports say nothing)."""
        targets = [
            port.get("targetPort", port.get("port"))
            for service in self.services_of(workload)
            for port in _list(service.obj.get("spec", "ports"))
            if isinstance(port, dict)
        ]
        containers = workload.template.containers
        serving = tuple(
            c
            for c in containers
            if any(_serves(c, target) for target in targets if target is not None)
        )
        return serving or containers


def _serves(container: Container, target: object) -> bool:
    port = container.resolve_port(target)
    return port in container.port_numbers or port in container.port_names


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def same_namespace(a: K8sObject, b: K8sObject) -> bool:
    """Objects without a namespace land in the one `kubectl -n` picks: assume the same."""
    return a.namespace is None or b.namespace is None or a.namespace == b.namespace


def build_scope(objects: Iterable[K8sObject]) -> Scope:
    objects = tuple(objects)
    workloads: list[Workload] = []
    services: list[Service] = []
    budgets: list[DisruptionBudget] = []
    autoscalers: list[Autoscaler] = []
    jobs: list[Job] = []
    pod_labels: list[tuple[K8sObject, dict[str, str]]] = []
    for obj in objects:
        template = pod_template(obj)
        if obj.kind == "Pod":
            pod_labels.append((obj, obj.labels))
        elif isinstance(dig(obj.body, "spec", "template", "metadata", "labels"), dict):
            pod_labels.append((obj, string_map(obj.get("spec", "template", "metadata", "labels"))))
        if obj.kind in WORKLOAD_KINDS and template is not None:
            workloads.append(Workload(obj, template))
        elif obj.kind == JOB and template is not None:
            jobs.append(Job(obj, template))
        elif obj.kind == SERVICE:
            services.append(Service(obj))
        elif obj.kind == PDB:
            budgets.append(DisruptionBudget(obj))
        elif obj.kind == HPA:
            autoscalers.append(Autoscaler(obj))
    backends = {s: _selected_by_service(s, workloads) for s in services}
    coverage = {b: _selected_by_budget(b, workloads) for b in budgets}
    return Scope(
        objects=objects,
        workloads=tuple(workloads),
        services=tuple(services),
        budgets=tuple(budgets),
        autoscalers=tuple(autoscalers),
        jobs=tuple(jobs),
        pod_labels=tuple(pod_labels),
        pairs=tuple(_blue_green_pairs(workloads)),
        service_backends=backends,
        budget_coverage=coverage,
        workload_services=_inverse(backends),
        workload_budgets=_inverse(coverage),
    )


def _inverse(edges: Mapping[K, tuple[Workload, ...]]) -> dict[Workload, tuple[K, ...]]:
    inverse: dict[Workload, list[K]] = {}
    for source, workloads in edges.items():
        for workload in workloads:
            inverse.setdefault(workload, []).append(source)
    return {w: tuple(sources) for w, sources in inverse.items()}


def _selected_by_service(service: Service, workloads: list[Workload]) -> tuple[Workload, ...]:
    selector = service.selector
    if not selector:
        return ()
    return tuple(
        w
        for w in workloads
        if same_namespace(w.obj, service.obj)
        and all(w.template.labels.get(k) == v for k, v in selector.items())
    )


def _selected_by_budget(
    budget: DisruptionBudget, workloads: list[Workload]
) -> tuple[Workload, ...]:
    selector = budget.obj.get("spec", "selector")
    return tuple(
        w
        for w in workloads
        if same_namespace(w.obj, budget.obj) and selector_matches(selector, w.template.labels)
    )


def _blue_green_pairs(workloads: list[Workload]) -> Iterable[BlueGreenPair]:
    deployments = [w for w in workloads if w.kind == DEPLOYMENT]
    paired: set[int] = set()
    for a, b in itertools.combinations(deployments, 2):
        if id(a) in paired or id(b) in paired or not same_namespace(a.obj, b.obj):
            continue
        key = colour_key(a.template.labels, b.template.labels)
        if key is not None:
            paired.update((id(a), id(b)))
            yield BlueGreenPair(key, (a.template.labels[key], a), (b.template.labels[key], b))


def colour_key(a: dict[str, str], b: dict[str, str]) -> str | None:
    """The one label two pod templates differ by, when it is a colour; else None."""
    if a.keys() != b.keys():
        return None
    differing = [k for k in a if a[k] != b[k]]
    if len(differing) != 1:
        return None
    key = differing[0]
    if key.rsplit("/", 1)[-1].lower() not in COLOUR_KEYS:
        return None
    if frozenset((a[key].lower(), b[key].lower())) not in COLOUR_PAIRS:
        return None
    return key
