"""Probes as the kubelet runs them: which endpoint, how often, how long until it gives up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zdlint.k8s.model import BOOT_ANNOTATION, Container, PodTemplate, integer
from zdlint.k8s.options import K8sOptions

PROBE_KINDS = ("startupProbe", "readinessProbe", "livenessProbe")
_DEFAULTS = {
    "initialDelaySeconds": 0,
    "periodSeconds": 10,
    "timeoutSeconds": 1,
    "failureThreshold": 3,
}


@dataclass(frozen=True)
class Probe:
    kind: str  # startupProbe | readinessProbe | livenessProbe
    spec: dict[str, Any]
    container: Container

    def seconds(self, field: str) -> int:
        """A timing field with the kubelet's default when unset."""
        value = integer(self.spec.get(field))
        return _DEFAULTS[field] if value is None else value

    @property
    def budget(self) -> int:
        """Seconds from container start until this probe's failures kill or fail it."""
        return self.seconds("initialDelaySeconds") + self.seconds(
            "failureThreshold"
        ) * self.seconds("periodSeconds")

    @property
    def budget_formula(self) -> str:
        return (
            f"initialDelaySeconds {self.seconds('initialDelaySeconds')} + failureThreshold "
            f"{self.seconds('failureThreshold')} × periodSeconds {self.seconds('periodSeconds')}"
        )

    @property
    def handler_field(self) -> str | None:
        for field in ("httpGet", "tcpSocket", "exec", "grpc"):
            if isinstance(self.spec.get(field), dict):
                return field
        return None

    @property
    def port(self) -> Any:
        field = self.handler_field
        return None if field in (None, "exec") else self.spec[field].get("port")

    @property
    def endpoint(self) -> tuple[Any, ...] | None:
        """What the probe checks, with named ports resolved: equal tuples, same check."""
        field = self.handler_field
        if field is None:
            return None
        handler = self.spec[field]
        port = self.container.resolve_port(handler.get("port"))
        if field == "httpGet":
            path = str(handler.get("path") or "/")
            scheme = str(handler.get("scheme") or "HTTP").upper()
            return ("http", scheme, handler.get("host") or "", port, path.rstrip("/") or "/")
        if field == "tcpSocket":
            return ("tcp", handler.get("host") or "", port)
        if field == "grpc":
            return ("grpc", port, handler.get("service") or "")
        command = handler.get("command")
        return ("exec", tuple(map(str, command)) if isinstance(command, list) else ())

    @property
    def description(self) -> str:
        """The endpoint as a user wrote it, for messages."""
        field = self.handler_field
        handler = self.spec.get(field) if field else None
        if not isinstance(handler, dict):
            return "no handler"
        if field == "httpGet":
            return f"HTTP GET {handler.get('path') or '/'} on port {handler.get('port')}"
        if field == "tcpSocket":
            return f"TCP port {handler.get('port')}"
        if field == "grpc":
            return f"gRPC port {handler.get('port')}"
        command = handler.get("command")
        shown = " ".join(map(str, command)) if isinstance(command, list) else ""
        return f"exec `{shown}`"


def probe(container: Container, kind: str) -> Probe | None:
    spec = container.spec.get(kind)
    return Probe(kind, spec, container) if isinstance(spec, dict) else None


def probes(container: Container) -> list[Probe]:
    return [p for kind in PROBE_KINDS if (p := probe(container, kind)) is not None]


def boot_seconds(template: PodTemplate, options: K8sOptions) -> int | None:
    """The declared boot time: annotation on the workload or its pod template, or config."""
    for notes in (template.annotations, template.obj.annotations):
        value = notes.get(BOOT_ANNOTATION, "").strip().removesuffix("s")
        if value.isdigit():
            return int(value)
    return options.boot_seconds
