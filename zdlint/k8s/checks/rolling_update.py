"""ZK202/ZK203: maxUnavailable and maxSurge resolved against the replicas."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.model import DEPLOYMENT, ROLLOUT, Workload
from zdlint.k8s.options import K8sOptions

DEFAULT_FENCEPOST = "25%"


@dataclass(frozen=True)
class Fenceposts:
    """A Deployment's rolling update as the controller computes it."""

    replicas: int
    max_unavailable: Any  # as written (or the default)
    max_surge: Any
    unavailable: int  # resolved: percentages round down
    surge: int  # resolved: percentages round up
    raised: bool  # both resolved to 0, so the controller lets one pod go

    @property
    def written_zero(self) -> bool:
        return (
            resolve(self.max_unavailable, 100, False) == 0
            and resolve(self.max_surge, 100, True) == 0
        )


def resolve(value: Any, replicas: int, round_up: bool) -> int | None:
    """An int-or-percent against the replicas; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.endswith("%") and text[:-1].isdigit():
        scaled = int(text[:-1]) * replicas / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    return int(text) if text.isdigit() else None


def fenceposts(workload: Workload, replicas: int) -> Fenceposts | None:
    strategy = workload.obj.get("spec", "strategy") or {}
    if not isinstance(strategy, dict):
        return None
    if workload.kind == ROLLOUT:
        rolling = strategy.get("canary")  # Argo's canary reads the same two fields
        if not isinstance(rolling, dict):
            return None
    elif strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return None
    else:
        rolling = strategy.get("rollingUpdate")
    rolling = rolling if isinstance(rolling, dict) else {}
    max_unavailable = rolling.get("maxUnavailable", DEFAULT_FENCEPOST)
    max_surge = rolling.get("maxSurge", DEFAULT_FENCEPOST)
    unavailable = resolve(max_unavailable, replicas, round_up=False)
    surge = resolve(max_surge, replicas, round_up=True)
    if unavailable is None or surge is None:
        return None
    # The controller cannot progress with both at 0, so it lets one pod go unavailable.
    raised = unavailable == 0 and surge == 0
    return Fenceposts(
        replicas, max_unavailable, max_surge, 1 if raised else unavailable, surge, raised
    )


def surges_first(workload: Workload, replicas: int) -> bool:
    """A Deployment or Argo Rollout whose rollout starts a new pod before it stops an old
    one (a blueGreen Rollout brings up the whole new ReplicaSet before it switches)."""
    if workload.kind == ROLLOUT and isinstance(
        workload.obj.get("spec", "strategy", "blueGreen"), dict
    ):
        return True
    if workload.kind not in (DEPLOYMENT, ROLLOUT):
        return False  # a StatefulSet replaces each pod after deleting it
    posts = fenceposts(workload, replicas)
    return posts is not None and posts.unavailable == 0 and posts.surge >= 1


def _field(workload: Workload, name: str) -> tuple[int, int]:
    return workload.obj.first_span(
        ("spec", "strategy", "rollingUpdate", name), ("spec", "strategy"), ("spec", "replicas")
    )


def reduces_capacity(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    """ZK202: a Service-backed Deployment that may drop below its replicas mid-rollout."""
    for workload in scope.workloads:
        if workload.kind != DEPLOYMENT or not scope.is_service_backed(workload):
            continue
        replicas = scope.least_replicas(workload)
        if not replicas:
            continue
        posts = fenceposts(workload, replicas)
        if posts is None or posts.unavailable == 0 or posts.written_zero:
            continue
        note = (
            "; both resolve to 0, so Kubernetes lets 1 pod go unavailable" if posts.raised else ""
        )
        yield flag(
            workload.obj,
            _field(workload, "maxUnavailable"),
            object=workload.obj.ref,
            replicas=replicas,
            max_unavailable=posts.max_unavailable,
            unavailable=posts.unavailable,
            max_surge=posts.max_surge,
            surge=posts.surge,
            serving=replicas - posts.unavailable,
            note=note,
        )


def cannot_progress(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    """ZK203: maxUnavailable and maxSurge both 0: the API server rejects the Deployment."""
    for workload in scope.workloads:
        if workload.kind != DEPLOYMENT:
            continue
        posts = fenceposts(workload, max(workload.replicas or 1, 1))
        if posts is not None and posts.written_zero:
            yield flag(
                workload.obj,
                _field(workload, "maxSurge"),
                object=workload.obj.ref,
                max_unavailable=posts.max_unavailable,
                max_surge=posts.max_surge,
            )


CHECKS = [("ZK202", reduces_capacity), ("ZK203", cannot_progress)]
