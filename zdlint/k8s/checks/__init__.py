"""Kubernetes checks: one module per rule or small family, each with `CHECKS`.

A check is a pure function of the scope's workload graph and the options; it returns
`Flag`s (the object a finding belongs to, and the Hit with its message's facts) and
never looks at another rule. The catalogue entry `rules/<CODE>-*.toml` holds the rest.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from zdlint.findings import Hit
from zdlint.k8s.graph import Scope
from zdlint.k8s.model import K8sObject
from zdlint.k8s.options import K8sOptions


@dataclass(frozen=True)
class Flag:
    """A check's result: which object is at fault, and the hit inside it."""

    obj: K8sObject
    hit: Hit


CheckFunction = Callable[[Scope, K8sOptions], Iterable[Flag]]

CHECK_MODULES = (
    "readiness",
    "liveness",
    "probe_overlap",
    "liveness_dependency",
    "startup",
    "probe_ports",
    "probe_timeout",
    "strategy",
    "rolling_update",
    "min_ready",
    "replicas",
    "autoscaled_replicas",
    "image_tag",
    "draining",
    "disruption",
    "service_selector",
    "blue_green",
    "migration_job",
    "resources",
    "removed_api",
    "spread",
    "surge_blocked",
)


def flag(obj: K8sObject, span: tuple[int, int], **fields: object) -> Flag:
    """A Flag for `obj` at `span` (character offsets), with the message's facts."""
    return Flag(obj, Hit(dict(fields), start=span[0], end=span[1]))


@cache
def all_checks() -> tuple[tuple[str, CheckFunction], ...]:
    """(rule code, check) for every check module, in catalogue order."""
    checks: list[tuple[str, CheckFunction]] = []
    for name in CHECK_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        checks.extend(module.CHECKS)
    return tuple(sorted(checks, key=lambda item: item[0]))
