"""ZK210: an apiVersion the target Kubernetes release no longer serves."""

from __future__ import annotations

from collections.abc import Iterator

from zdlint.k8s.api_versions import removal, replacement
from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.options import K8sOptions


def check(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    target = options.k8s_version
    for obj in scope.objects:
        entry = removal(obj.api_version, obj.kind, target)
        if entry is None:
            continue
        instead = replacement(entry, target)
        yield flag(
            obj,
            obj.span("apiVersion"),
            object=obj.ref,
            api_version=obj.api_version,
            removed_in=entry.release,
            target=f"{target[0]}.{target[1]}",
            instead=(
                f"use `apiVersion: {instead}`" if instead else f"{obj.kind} has no replacement"
            ),
        )


CHECKS = [("ZK210", check)]
