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

    def drop(self, target: Path) -> None:
        """Forget the positions under `target`, its own included."""
        for table in (self.values, self.keys):
            for path in [p for p in table if p[: len(target)] == target]:
                del table[path]

    def shift(self, items: Path, first: int, delta: int) -> None:
        """Renumber the positions of the list items at `items` from index `first` on by
        `delta` (an item was inserted or removed before them)."""
        depth = len(items)
        for table in (self.values, self.keys):
            moved = {}
            for path, span in table.items():
                index = path[depth] if len(path) > depth and path[:depth] == items else None
                if isinstance(index, int) and index >= first:
                    moved[path] = (items + (index + delta,) + path[depth + 1 :], span)
            for path in moved:
                del table[path]
            table.update(moved.values())


def apply_patch(obj: K8sObject, patch: Patch) -> K8sObject:
    """`obj` with the strategic-merge `patch` applied; positions follow each value."""
    spans = _spans_of(obj)
    merged = _merge_map(copy.deepcopy(obj.body), patch.value, (), patch, spans, patch.base)
    return _rebuilt(obj, merged, spans)


def _spans_of(obj: K8sObject) -> _Spans:
    spans = _Spans()
    spans.copy_from(obj.document.positions, obj.base, ())
    return spans


def _rebuilt(obj: K8sObject, merged: dict[str, Any], spans: _Spans) -> K8sObject:
    """The object made of a patched body, with the positions the patch left."""
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
    # Removing an item renumbers the ones after it, and their positions with them.
    for i in sorted(deleted, reverse=True):
        del base[i]
        spans.drop((*at, i))
        spans.shift(at, i + 1, -1)
    return base


def _without_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_directives(v) for k, v in value.items() if not str(k).startswith("$")}
    if isinstance(value, list):
        return [_without_directives(v) for v in value]
    return value


JSON_OPERATIONS = ("add", "replace", "remove")


def apply_json_patch(
    obj: K8sObject, operations: list[Any], positions: Positions
) -> tuple[K8sObject, list[str]]:
    """`obj` with the JSON 6902 `operations` (add, replace, remove) applied, each added
    value keeping its position in the patch; and the operations that could not be
    applied, described for a note."""
    spans = _spans_of(obj)
    body = copy.deepcopy(obj.body)
    skipped = []
    for n, operation in enumerate(operations):
        op, pointer = dig_str(operation, "op"), dig_str(operation, "path")
        steps = _pointer(pointer) if pointer is not None else None
        if op not in JSON_OPERATIONS or not steps:
            skipped.append(f"`{op}` {pointer}" if op else f"operation {n + 1}")
            continue
        if not _apply_operation(body, op, steps, operation.get("value"), spans, positions, n):
            skipped.append(f"`{op}` {pointer} (no such path)")
    return _rebuilt(obj, body, spans), skipped


def dig_str(value: Any, key: str) -> str | None:
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, str) else None


def _pointer(pointer: str) -> list[str] | None:
    """The steps of a JSON pointer (`/spec/template/0`), unescaped; None if malformed."""
    if not pointer.startswith("/"):
        return None
    return [step.replace("~1", "/").replace("~0", "~") for step in pointer[1:].split("/")]


def _apply_operation(
    body: dict[str, Any],
    op: str,
    steps: list[str],
    value: Any,
    spans: _Spans,
    positions: Positions,
    n: int,
) -> bool:
    parent: Any = body
    at: Path = ()
    for step in steps[:-1]:
        key = _step(parent, step, exists=True)
        if key is None:
            return False
        parent = parent[key]
        at = (*at, key)
    last = steps[-1]
    if isinstance(parent, list) and op == "add":
        index = len(parent) if last == "-" else _step(parent, last, exists=False)
        if not isinstance(index, int):
            return False
        parent.insert(index, copy.deepcopy(value))
        spans.shift(at, index, 1)
        spans.copy_from(positions, (n, "value"), (*at, index))
        return True
    key = _step(parent, last, exists=op != "add")
    if key is None:
        return False
    if op == "remove":
        del parent[key]
        spans.drop((*at, key))
        if isinstance(parent, list):
            spans.shift(at, key + 1, -1)  # type: ignore[operator]
        return True
    parent[key] = copy.deepcopy(value)
    spans.copy_from(positions, (n, "value"), (*at, key))
    return True


def _step(parent: Any, step: str, exists: bool) -> str | int | None:
    """The key or index `step` names in `parent`; None when it cannot be (a missing key
    where one must exist, an index out of range)."""
    if isinstance(parent, dict):
        return step if step in parent or not exists else None
    if isinstance(parent, list) and step.isdigit():
        index = int(step)
        limit = len(parent) if exists else len(parent) + 1
        return index if index < limit else None
    return None
