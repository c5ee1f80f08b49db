"""The workload graph of one deploy scope: every object checked together.

Which Services, PodDisruptionBudgets and autoscalers point at which workloads, and
which Deployments form a blue/green pair. A scope is what is deployed together (every
file of a run, or one kustomization's output), so relations cross files. Objects that
share one identity (kind, namespace, name) cannot be deployed together: they are
variants of one object (a base and an overlay copy, staging and production), and a
relation picks, among the variants it could reach, the one whose file lies nearest.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from zdlint.k8s.model import (
    DEFAULT_TEMPLATE_PATH,
    DEPLOYMENT,
    HPA,
    JOB_KINDS,
    PDB,
    POD_KINDS,
    ROLLOUT,
    SERVICE,
    TEMPLATE_PATHS,
    WORKLOAD_KINDS,
    Autoscaler,
    Container,
    DisruptionBudget,
    Job,
    K8sObject,
    PodTemplate,
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
    # Labels of every pod this scope would create, whatever makes it (a bare Pod, a
    # ReplicaSet, a Job or CronJob, every workload).
    pod_labels: tuple[tuple[K8sObject, dict[str, str]], ...]
    pairs: tuple[BlueGreenPair, ...]
    service_backends: dict[Service, tuple[Workload, ...]]
    budget_coverage: dict[DisruptionBudget, tuple[Workload, ...]]
    workload_services: dict[Workload, tuple[Service, ...]]
    workload_budgets: dict[Workload, tuple[DisruptionBudget, ...]]
    workload_autoscalers: dict[Workload, Autoscaler]

    def backends(self, service: Service) -> tuple[Workload, ...]:
        """The workloads whose pods a Service selects (one of each set of variants
        equally near it: only one of them can be deployed)."""
        return _one_per_identity(self.service_backends.get(service, ()))

    def selects_any_pod(self, service: Service) -> bool:
        wanted = service.selector.items()
        return any(
            same_namespace(obj, service.obj) and all(labels.get(k) == v for k, v in wanted)
            for obj, labels in self.pod_labels
        )

    def budget_selects_any_pod(self, budget: DisruptionBudget) -> bool:
        selector = budget.obj.get("spec", "selector")
        return any(
            same_namespace(obj, budget.obj) and selector_matches(selector, labels)
            for obj, labels in self.pod_labels
        )

    def services_of(self, workload: Workload) -> tuple[Service, ...]:
        return self.workload_services.get(workload, ())

    def is_service_backed(self, workload: Workload) -> bool:
        return bool(self.services_of(workload))

    def covered(self, budget: DisruptionBudget) -> tuple[Workload, ...]:
        """The workloads whose pods a PodDisruptionBudget selects (one of each set of
        variants, as `backends`)."""
        return _one_per_identity(self.budget_coverage.get(budget, ()))

    def budgets_of(self, workload: Workload) -> tuple[DisruptionBudget, ...]:
        return self.workload_budgets.get(workload, ())

    def autoscaler_of(self, workload: Workload) -> Autoscaler | None:
        """The HorizontalPodAutoscaler whose scaleTargetRef names the workload."""
        return self.workload_autoscalers.get(workload)

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


def _one_per_identity(workloads: tuple[Workload, ...]) -> tuple[Workload, ...]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for w in workloads:
        if identity(w.obj) not in seen:
            seen.add(identity(w.obj))
            out.append(w)
    return tuple(out)


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
    templates = {id(obj): t for obj in objects if (t := pod_template(obj)) is not None}
    # A Rollout's `workloadRef` borrows the pod template of a Deployment, which then only
    # holds the template: its pods are the Rollout's.
    borrowed = {
        id(obj): deployment
        for obj in objects
        if obj.kind == ROLLOUT and (deployment := _referenced_deployment(obj, objects))
    }
    holders = {id(d) for d in borrowed.values()}
    workloads: list[Workload] = []
    services: list[Service] = []
    budgets: list[DisruptionBudget] = []
    autoscalers: list[Autoscaler] = []
    jobs: list[Job] = []
    pod_labels: list[tuple[K8sObject, dict[str, str]]] = []
    for obj in objects:
        if id(obj) in holders:
            continue
        template = templates.get(id(obj))
        if id(obj) in borrowed:
            template = templates.get(id(borrowed[id(obj)]))
        labels = _pod_labels(obj, template)
        if labels is not None:
            pod_labels.append((obj, labels))
        if obj.kind in WORKLOAD_KINDS and template is not None:
            workloads.append(Workload(obj, template))
        elif obj.kind in JOB_KINDS and template is not None:
            jobs.append(Job(obj, template))
        elif obj.kind == SERVICE:
            services.append(Service(obj))
        elif obj.kind == PDB:
            budgets.append(DisruptionBudget(obj))
        elif obj.kind == HPA:
            autoscalers.append(Autoscaler(obj))
    backends = {s: _selected_by_service(s, workloads) for s in services}
    for rollout in (w for w in workloads if w.kind == ROLLOUT):
        for service in _rollout_services(rollout, services):
            if rollout not in backends[service]:
                backends[service] += (rollout,)
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
        workload_autoscalers=_scale_targets(autoscalers, workloads),
    )


def _pod_labels(obj: K8sObject, template: PodTemplate | None) -> dict[str, str] | None:
    """The labels of the pods an object makes; None when it makes none. A template
    without containers (a partial object) still says its labels."""
    if obj.kind not in POD_KINDS:
        return None
    if template is not None:
        return template.labels
    path = TEMPLATE_PATHS.get(obj.kind, DEFAULT_TEMPLATE_PATH)
    labels = dig(obj.body, *path, "metadata", "labels")
    return string_map(labels) if isinstance(labels, dict) else None


def _referenced_deployment(rollout: K8sObject, objects: Sequence[K8sObject]) -> K8sObject | None:
    """The Deployment a Rollout's `spec.workloadRef` names, when it is in scope."""
    ref = rollout.get("spec", "workloadRef")
    name = dig(ref, "name")
    if dig(ref, "kind") != DEPLOYMENT or not isinstance(name, str):
        return None
    found = [
        obj
        for obj in objects
        if obj.kind == DEPLOYMENT and obj.name == name and same_namespace(obj, rollout)
    ]
    return next(iter(nearest(found, rollout)), None)


_ROLLOUT_SERVICE_FIELDS = (
    ("blueGreen", "activeService"),
    ("blueGreen", "previewService"),
    ("canary", "canaryService"),
    ("canary", "stableService"),
)


def _rollout_services(rollout: Workload, services: Sequence[Service]) -> tuple[Service, ...]:
    """The Services a Rollout's strategy names (blueGreen active/preview, canary
    canary/stable): its controller points them at the Rollout's pods, whatever their
    selectors say."""
    names = {
        name
        for strategy, key in _ROLLOUT_SERVICE_FIELDS
        if isinstance(name := rollout.obj.get("spec", "strategy", strategy, key), str)
    }
    named = [s for s in services if s.obj.name in names and same_namespace(s.obj, rollout.obj)]
    kept = nearest([s.obj for s in named], rollout.obj)
    return tuple(s for s in named if s.obj in kept)


def _scale_targets(
    autoscalers: Sequence[Autoscaler], workloads: Sequence[Workload]
) -> dict[Workload, Autoscaler]:
    """Each workload an autoscaler's scaleTargetRef names (v1 and v2 alike), with the
    autoscaler nearest to it."""
    owned: dict[Workload, Autoscaler] = {}
    for hpa in autoscalers:
        if hpa.target is None:
            continue
        kind, name = hpa.target
        candidates = [
            w
            for w in workloads
            if w.kind == kind and w.obj.name == name and same_namespace(w.obj, hpa.obj)
        ]
        kept = nearest([w.obj for w in candidates], hpa.obj)
        for workload in candidates:
            current = owned.get(workload)
            if workload.obj in kept and (
                current is None
                or _closeness(hpa.obj, workload.obj) > _closeness(current.obj, workload.obj)
            ):
                owned[workload] = hpa
    return owned


def identity(obj: K8sObject) -> tuple[str, str, str]:
    """What the API server keys an object by: two objects with one identity replace
    each other, so they are never deployed together."""
    return (obj.kind, obj.namespace or "", obj.name)


def nearest(candidates: Sequence[K8sObject], referrer: K8sObject) -> list[K8sObject]:
    """`candidates`, each set of variants (one identity) cut to the ones whose file
    shares the longest path prefix with the referrer's."""
    best: dict[tuple[str, str, str], int] = {}
    for obj in candidates:
        key = identity(obj)
        best[key] = max(best.get(key, -1), _closeness(obj, referrer))
    return [obj for obj in candidates if _closeness(obj, referrer) == best[identity(obj)]]


def _closeness(a: K8sObject, b: K8sObject) -> int:
    return len(os.path.commonprefix([a.document.source, b.document.source]))


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
    selected = [
        w
        for w in workloads
        if same_namespace(w.obj, service.obj)
        and all(w.template.labels.get(k) == v for k, v in selector.items())
    ]
    return _nearest_workloads(selected, service.obj)


def _nearest_workloads(selected: list[Workload], referrer: K8sObject) -> tuple[Workload, ...]:
    kept = nearest([w.obj for w in selected], referrer)
    return tuple(w for w in selected if w.obj in kept)


def _selected_by_budget(
    budget: DisruptionBudget, workloads: list[Workload]
) -> tuple[Workload, ...]:
    selector = budget.obj.get("spec", "selector")
    selected = [
        w
        for w in workloads
        if same_namespace(w.obj, budget.obj) and selector_matches(selector, w.template.labels)
    ]
    return _nearest_workloads(selected, budget.obj)


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
