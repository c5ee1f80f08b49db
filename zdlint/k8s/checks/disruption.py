"""ZK303–ZK305: PodDisruptionBudgets that are missing, that block drains, or match nothing."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.model import DAEMON_SET
from zdlint.k8s.options import K8sOptions


def missing_budget(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    """ZK303: several replicas and nothing to stop a drain from evicting them all at once."""
    for workload in scope.workloads:
        replicas = scope.least_replicas(workload)
        if workload.kind == DAEMON_SET or replicas is None or replicas < 2:
            continue
        if not scope.budgets_of(workload):
            yield flag(
                workload.obj,
                workload.obj.first_span(("spec", "replicas")),
                object=workload.obj.ref,
                replicas=replicas,
            )


def _scaled(value: Any, total: int) -> int | None:
    """An int-or-percent as the disruption controller reads it (percentages round up)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.endswith("%") and text[:-1].isdigit():
        return math.ceil(int(text[:-1]) * total / 100)
    return int(text) if text.isdigit() else None


def blocks_drain(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    """ZK304: a budget that allows no voluntary disruption: node drains wait forever."""
    for budget in scope.budgets:
        covered = scope.covered(budget)
        counts = [scope.least_replicas(w) for w in covered]
        total = sum(c for c in counts if c is not None) if covered and None not in counts else None
        spec = budget.obj.get("spec") or {}
        if not isinstance(spec, dict):
            continue
        if "maxUnavailable" in spec:
            field, value = "maxUnavailable", spec["maxUnavailable"]
            blocked = _scaled(value, total or 100) == 0
        elif "minAvailable" in spec:
            field, value = "minAvailable", spec["minAvailable"]
            if str(value).strip() == "100%":
                blocked = True
            else:
                needed = _scaled(value, total or 0)
                blocked = total is not None and needed is not None and needed >= total > 0
        else:
            continue
        if blocked:
            pods = f" of {total} pod{'s' if total != 1 else ''}" if total is not None else ""
            yield flag(
                budget.obj,
                budget.obj.span("spec", field),
                object=budget.obj.ref,
                field=field,
                value=value,
                pods=pods,
            )


def selects_nothing(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    """ZK305: a budget whose selector matches no pod of its scope."""
    if not scope.pod_labels:
        return  # budgets kept apart from their workloads: nothing to compare with
    for budget in scope.budgets:
        if not scope.budget_selects_any_pod(budget):
            yield flag(
                budget.obj,
                budget.obj.first_span(("spec", "selector")),
                object=budget.obj.ref,
            )


CHECKS = [("ZK303", missing_budget), ("ZK304", blocks_drain), ("ZK305", selects_nothing)]
