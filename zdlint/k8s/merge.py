"""Strategic-merge patches (kustomize's `patches`/`patchesStrategicMerge`) onto objects.

The merge follows the Kubernetes strategic-merge rules for what manifests use: maps
merge key by key, `null` deletes a key, lists of named items (containers, env, volumes,
ports, …) merge item by item on their merge key, `$patch: delete` removes an item and
`$patch: replace` a whole map, and any other list is replaced. Every value of the result
keeps the position it came from, in the base or in the patch, so a finding on a patched
field points into the patch file and one on an untouched field into the base.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from zdlint.k8s.load import Document, Path, Positions
from zdlint.k8s.model import K8sObject

# The merge key of each list of named items, by the list's field name. `ports` lists
# name their items by containerPort in a container and by port in a Service.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
}
PORT_KEYS = ("containerPort", "port")
DIRECTIVE = "$patch"


@dataclass(frozen=True)
class Patch:
    """A patch's value and where its fields are written (positions in the run)."""

    value: dict[str, Any]
    positions: Positions
    base: Path  # where the patch's value sits in its document


class _Spans:
    """The merged object's positions, rebuilt as the merge replaces subtrees."""

    def __init__(self) -> None:
        self.values: dict[Path, tuple[int, int]] = {}
        self.keys: dict[Path, tuple[int, int]] = {}

    def copy_from(self, positions: Positions, source: Path, target: Path) -> None:
        """Every position under `source` in `positions`, moved under `target`."""
        self.drop(target)
        for table, out in ((positions.values, self.values), (positions.keys, self.keys)):
            for path, span in table.items():
                if path[: len(source)] == source:
                    out[target + path[len(source) :]] = span

    def drop(self, target: Path, keep_own: bool = False) -> None:
        """Forget the positions under `target` (and its own, unless `keep_own`)."""
        for table in (self.values, self.keys):
            for path in [p for p in table if p[: len(target)] == target]:
                if not (keep_own and path == target):
                    del table[path]


def apply_patch(obj: K8sObject, patch: Patch) -> K8sObject:
    """`obj` with the strategic-merge `patch` applied; positions follow each value."""
    spans = _Spans()
    spans.copy_from(obj.document.positions, obj.base, ())
    merged = _merge_map(copy.deepcopy(obj.body), patch.value, (), patch, spans, patch.base)
    document = Document(
        index=obj.document.index,
        start=obj.document.start,
        end=obj.document.end,
        value=merged,
        positions=Positions(spans.values, spans.keys),
        source=obj.document.source,
    )
    namespace = merged.get("metadata", {}).get("namespace") if isinstance(merged, dict) else None
    return K8sObject(
        kind=obj.kind,
        api_version=obj.api_version,
        name=obj.name,
        namespace=namespace if isinstance(namespace, str) else obj.namespace,
        body=merged,
        document=document,
        base=(),
    )


def _merge_map(
    base: dict[str, Any], patch: dict[str, Any], at: Path, source: Patch, spans: _Spans, src: Path
) -> dict[str, Any]:
    if patch.get(DIRECTIVE) == "replace":
        spans.copy_from(source.positions, src, at)
        return {k: copy.deepcopy(v) for k, v in patch.items() if not str(k).startswith("$")}
    for key, value in patch.items():
        if str(key).startswith("$"):  # $patch, $setElementOrder/…, $retainKeys
            continue
        here, there = (*at, key), (*src, key)
        if value is None:
            base.pop(key, None)
            spans.drop(here)
            continue
        current = base.get(key)
        if current == value and not isinstance(value, (dict, list)):
            continue  # the patch repeats the base (a name, a merge key): the base says it
        if isinstance(current, dict) and isinstance(value, dict):
            base[key] = _merge_map(current, value, here, source, spans, there)
            if there in source.positions.keys:
                spans.keys.setdefault(here, source.positions.keys[there])
        elif isinstance(current, list) and isinstance(value, list) and _merge_key(key, value):
            base[key] = _merge_list(current, value, here, source, spans, there, key)
        else:
            base[key] = _without_directives(copy.deepcopy(value))
            spans.copy_from(source.positions, there, here)
    return base


def _merge_key(field: object, items: list[Any]) -> str | None:
    """The key a list's items merge on, or None when the list is replaced whole."""
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    if field == "ports":
        return next((k for k in PORT_KEYS if all(k in item for item in items)), None)
    key = MERGE_KEYS.get(str(field))
    if key is None or not all(key in item or DIRECTIVE in item for item in items):
        return None
    return key


def _merge_list(
    base: list[Any],
    patch: list[Any],
    at: Path,
    source: Patch,
    spans: _Spans,
    src: Path,
    field: object,
) -> list[Any]:
    key = _merge_key(field, patch)
    assert key is not None
    index = {item.get(key): i for i, item in enumerate(base) if isinstance(item, dict)}
    deleted: set[int] = set()
    for n, item in enumerate(patch):
        i = index.get(item.get(key))
        if item.get(DIRECTIVE) == "delete":
            if i is not None:
                deleted.add(i)
            continue
        if i is None:  # a new item goes after the base's
            base.append(_without_directives(copy.deepcopy(item)))
            spans.copy_from(source.positions, (*src, n), (*at, len(base) - 1))
        else:
            base[i] = _merge_map(base[i], item, (*at, i), source, spans, (*src, n))
    if not deleted:
        return base
    # Removing items renumbers the ones after them, and their positions with them.
    kept = [i for i in range(len(base)) if i not in deleted]
    moved = _Spans()
    for new, old in enumerate(kept):
        moved.copy_from(Positions(spans.values, spans.keys), (*at, old), (*at, new))
    spans.drop(at, keep_own=True)
    for table, out in ((moved.values, spans.values), (moved.keys, spans.keys)):
        out.update(table)
    return [base[i] for i in kept]


def _without_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_directives(v) for k, v in value.items() if not str(k).startswith("$")}
    if isinstance(value, list):
        return [_without_directives(v) for v in value]
    return value
