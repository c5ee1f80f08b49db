"""Kubernetes objects as zdlint reads them: the few kinds that decide a rollout.

Everything here is a view over the plain values the loader built; nothing is validated
beyond what a check needs, and a field of the wrong type reads as missing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from zdlint.k8s.load import Document, Path

DEPLOYMENT = "Deployment"
STATEFUL_SET = "StatefulSet"
DAEMON_SET = "DaemonSet"
ROLLOUT = "Rollout"  # Argo Rollouts (argoproj.io/v1alpha1): a Deployment with canary/blueGreen
POD = "Pod"
REPLICA_SET = "ReplicaSet"
REPLICATION_CONTROLLER = "ReplicationController"
SERVICE = "Service"
PDB = "PodDisruptionBudget"
HPA = "HorizontalPodAutoscaler"
JOB = "Job"
CRON_JOB = "CronJob"
# The controllers that roll a pod template out and keep its pods serving.
WORKLOAD_KINDS = (DEPLOYMENT, STATEFUL_SET, DAEMON_SET, ROLLOUT)
JOB_KINDS = (JOB, CRON_JOB)
# Everything that makes pods: what a Service or PodDisruptionBudget can select.
POD_KINDS = (*WORKLOAD_KINDS, *JOB_KINDS, POD, REPLICA_SET, REPLICATION_CONTROLLER)
CHECKED_KINDS = (*POD_KINDS, SERVICE, PDB, HPA)
# Where each kind keeps its pod template (a Pod is its own template).
TEMPLATE_PATHS: dict[str, Path] = {
    POD: (),
    CRON_JOB: ("spec", "jobTemplate", "spec", "template"),
}
DEFAULT_TEMPLATE_PATH: Path = ("spec", "template")

IGNORE_ANNOTATION = "zdlint.io/ignore"
BOOT_ANNOTATION = "zdlint.io/boot-seconds"


def dig(value: Any, *path: str | int) -> Any:
    """The value at `path`, or None when a step is missing or of the wrong type."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return None
        elif not isinstance(value, dict):
            return None
        value = value[step] if isinstance(step, int) else value.get(step)
    return value


def string_map(value: Any) -> dict[str, str]:
    """A labels/annotations/selector map with its values as strings."""
    if not isinstance(value, dict):
        return {}
    return {str(k): _text(v) for k, v in value.items() if v is not None}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def integer(value: Any) -> int | None:
    """An int field; None when missing or not a whole number."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


@dataclass(frozen=True, eq=False)
class K8sObject:
    """One manifest object with the positions of its fields."""

    kind: str
    api_version: str
    name: str
    namespace: str | None
    body: dict[str, Any]
    document: Document
    base: Path  # where the object sits in its document: () or ("items", i)

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    def get(self, *path: str | int) -> Any:
        return dig(self.body, *path)

    def span(self, *path: str | int) -> tuple[int, int]:
        """Offsets of a field (key and value), or of its nearest ancestor present."""
        return self.document.positions.locate((*self.base, *path))

    def first_span(self, *paths: Path) -> tuple[int, int]:
        """The span of the first of `paths` present, else of the object's name."""
        for path in paths:
            if self.has(*path):
                return self.span(*path)
        return self.span("metadata", "name")

    def has(self, *path: str | int) -> bool:
        return (*self.base, *path) in self.document.positions.values

    @property
    def extent(self) -> tuple[int, int]:
        return self.document.positions.locate(self.base)

    @property
    def labels(self) -> dict[str, str]:
        return string_map(self.get("metadata", "labels"))

    @property
    def annotations(self) -> dict[str, str]:
        return string_map(self.get("metadata", "annotations"))


def objects_in(document: Document) -> Iterator[K8sObject]:
    """The objects of a document: itself, or the items of a `kind: List`."""
    value = document.value
    if _is_object(value) and str(value["kind"]).endswith("List"):
        items = value.get("items")
        for i, item in enumerate(items if isinstance(items, list) else []):
            if _is_object(item):
                yield _object(item, document, ("items", i))
    elif _is_object(value):
        yield _object(value, document, ())


def _is_object(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("apiVersion"), str)
        and isinstance(value.get("kind"), str)
    )


def _object(value: dict[str, Any], document: Document, base: Path) -> K8sObject:
    name = dig(value, "metadata", "name")
    if not isinstance(name, str):
        generate = dig(value, "metadata", "generateName")
        name = f"{generate}*" if isinstance(generate, str) else "<unnamed>"
    namespace = dig(value, "metadata", "namespace")
    return K8sObject(
        kind=value["kind"],
        api_version=value["apiVersion"],
        name=name,
        namespace=namespace if isinstance(namespace, str) else None,
        body=value,
        document=document,
        base=base,
    )


@dataclass(frozen=True, eq=False)
class Container:
    """A container of a pod template, with where it sits in its object."""

    name: str
    spec: dict[str, Any]
    path: Path  # relative to the object's body
    init: bool

    def get(self, *path: str | int) -> Any:
        return dig(self.spec, *path)

    @property
    def image(self) -> str | None:
        image = self.spec.get("image")
        return image if isinstance(image, str) else None

    @property
    def port_names(self) -> dict[str, int | None]:
        """Named ports and their numbers (None when the number is malformed)."""
        return {
            p["name"]: integer(p.get("containerPort"))
            for p in self._ports()
            if isinstance(p.get("name"), str)
        }

    @property
    def port_numbers(self) -> set[int]:
        return {n for p in self._ports() if (n := integer(p.get("containerPort"))) is not None}

    def _ports(self) -> list[dict[str, Any]]:
        ports = self.spec.get("ports")
        return [p for p in ports if isinstance(p, dict)] if isinstance(ports, list) else []

    def resolve_port(self, port: Any) -> int | str | None:
        """A probe or Service port as a number where the container says which."""
        if isinstance(port, bool) or port is None:
            return None
        if isinstance(port, int):
            return port
        text = str(port)
        if text.isdigit():
            return int(text)
        number = self.port_names.get(text)
        return number if isinstance(number, int) else text

    @property
    def command_line(self) -> str:
        """`command` and `args` joined by spaces, for pattern matching."""
        words: list[str] = []
        for key in ("command", "args"):
            value = self.spec.get(key)
            if isinstance(value, list):
                words += [str(v) for v in value if v is not None]
            elif isinstance(value, str):
                words.append(value)
        return " ".join(words)


@dataclass(frozen=True, eq=False)
class PodTemplate:
    """A pod template (of a workload or Job) or a bare pod spec."""

    obj: K8sObject
    path: Path  # to the template; its spec is at path + ("spec",)
    labels: dict[str, str]
    annotations: dict[str, str]
    spec: dict[str, Any]
    containers: tuple[Container, ...]
    init_containers: tuple[Container, ...]

    def span(self, *path: str | int) -> tuple[int, int]:
        return self.obj.span(*self.path, *path)

    @property
    def all_containers(self) -> tuple[Container, ...]:
        """Init containers first, as the kubelet starts them."""
        return (*self.init_containers, *self.containers)

    def container_span(self, container: Container, *path: str | int) -> tuple[int, int]:
        """A field of a container; a missing field points at the container's name."""
        if not path or self.obj.has(*container.path, *path):
            return self.obj.span(*container.path, *path)
        return self.obj.span(*container.path, "name")

    @property
    def termination_grace_seconds(self) -> int:
        value = integer(self.spec.get("terminationGracePeriodSeconds"))
        return 30 if value is None else value


def pod_template(obj: K8sObject) -> PodTemplate | None:
    """The pod template of a pod-bearing object; None for a partial object (a patch)."""
    if obj.kind not in POD_KINDS:
        return None
    path = TEMPLATE_PATHS.get(obj.kind, DEFAULT_TEMPLATE_PATH)
    template = obj.get(*path) if path else obj.body
    spec = dig(template, "spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("containers"), list):
        return None
    return PodTemplate(
        obj=obj,
        path=path,
        labels=string_map(dig(template, "metadata", "labels")),
        annotations=string_map(dig(template, "metadata", "annotations")),
        spec=spec,
        containers=_containers(spec, (*path, "spec"), "containers"),
        init_containers=_containers(spec, (*path, "spec"), "initContainers"),
    )


def _containers(spec: dict[str, Any], base: Path, key: str) -> tuple[Container, ...]:
    items = spec.get(key)
    if not isinstance(items, list):
        return ()
    return tuple(
        Container(str(item.get("name", f"#{i}")), item, (*base, key, i), key == "initContainers")
        for i, item in enumerate(items)
        if isinstance(item, dict)
    )


@dataclass(frozen=True, eq=False)
class Workload:
    """A Deployment, StatefulSet, DaemonSet or Argo Rollout with its pod template (a
    Rollout's `workloadRef` template lives in the Deployment it names)."""

    obj: K8sObject
    template: PodTemplate

    @property
    def kind(self) -> str:
        return self.obj.kind

    @property
    def replicas(self) -> int | None:
        """Declared replicas (1 when omitted); None for a DaemonSet (one per node)."""
        if self.kind == DAEMON_SET:
            return None
        value = self.obj.get("spec", "replicas")
        if value is None:
            return 1
        return integer(value)


@dataclass(frozen=True, eq=False)
class Service:
    obj: K8sObject

    @property
    def selector(self) -> dict[str, str]:
        """The pod selector; empty for a Service without one (ExternalName, manual)."""
        if self.obj.get("spec", "type") == "ExternalName":
            return {}
        return string_map(self.obj.get("spec", "selector"))


@dataclass(frozen=True, eq=False)
class Autoscaler:
    obj: K8sObject

    @property
    def target(self) -> tuple[str, str] | None:
        ref = self.obj.get("spec", "scaleTargetRef")
        kind, name = dig(ref, "kind"), dig(ref, "name")
        return (kind, name) if isinstance(kind, str) and isinstance(name, str) else None

    @property
    def min_replicas(self) -> int:
        value = integer(self.obj.get("spec", "minReplicas"))
        return 1 if value is None else value


@dataclass(frozen=True, eq=False)
class DisruptionBudget:
    obj: K8sObject


@dataclass(frozen=True, eq=False)
class Job:
    """A Job, or the Job a CronJob creates on schedule."""

    obj: K8sObject
    template: PodTemplate

    @property
    def spec_path(self) -> Path:
        """Where the Job spec sits in the object (a CronJob's is its jobTemplate's)."""
        return ("spec", "jobTemplate", "spec") if self.obj.kind == CRON_JOB else ("spec",)


def selector_matches(selector: Any, labels: Mapping[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against pod labels.

    An empty selector matches everything; a missing one (None) matches nothing.
    """
    if not isinstance(selector, dict):
        return False
    wanted = string_map(selector.get("matchLabels"))
    if any(labels.get(k) != v for k, v in wanted.items()):
        return False
    expressions = selector.get("matchExpressions")
    for expression in expressions if isinstance(expressions, list) else []:
        if not _expression_matches(expression, labels):
            return False
    return True


def _expression_matches(expression: Any, labels: Mapping[str, str]) -> bool:
    key, operator = dig(expression, "key"), dig(expression, "operator")
    values = dig(expression, "values")
    options = {_text(v) for v in values} if isinstance(values, list) else set()
    present = key in labels
    if operator == "In":
        return present and labels[key] in options
    if operator == "NotIn":
        return not present or labels[key] not in options
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    return False
