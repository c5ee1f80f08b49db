"""Deploy scopes from `kustomization.yaml` files: what is deployed together.

A kustomization's `resources` (and the older `bases`, and `components`) form one unit
with the patches it lists applied and its `namespace:` set; a folder it lists brings
that folder's kustomization, rendered the same way. Each kustomization no other one in
the run includes is a scope of its own. Files listed as patches are never objects of
their own: a strategic-merge or JSON 6902 patch is applied to its base when the base is
in the unit (an inline one too, when written as a literal block), and is otherwise
skipped with a note. The
`replicas:` and `images:` fields are applied too, as patches written in the
kustomization. Other transformers (name prefixes, common labels) change names and labels
on both ends of every relation alike, so matching does without them. Every file no
kustomization claims belongs to one more scope, the rest of the run.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

from zdlint.k8s.load import Document, Path, Positions, load_documents
from zdlint.k8s.merge import DIRECTIVE, Patch, apply_json_patch, apply_patch
from zdlint.k8s.model import K8sObject, dig, integer, pod_template

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
RESOURCE_FIELDS = ("resources", "bases", "components")


def is_kustomization(name: str) -> bool:
    return name in KUSTOMIZATION_NAMES


@dataclass
class LoadedFile:
    """One manifest file of the run as the engine loaded it."""

    display: str
    path: FilePath | None  # resolved; None for stdin and rendered output
    objects: list[K8sObject]
    documents: list[Document] = field(default_factory=list)
    text: str = ""
    origin: int = 0  # where the file starts among the run's files (see load_documents)

    @property
    def kustomization(self) -> dict[str, Any] | None:
        if self.path is None or not is_kustomization(self.path.name) or not self.documents:
            return None
        value = self.documents[0].value
        return value if isinstance(value, dict) else None


Note = Callable[[str], None]


def deploy_scopes(files: Sequence[LoadedFile], note: Note) -> list[list[K8sObject]]:
    """The run's objects cut into what is deployed together (see the module docstring)."""
    by_path = {f.path: f for f in files if f.path is not None}
    units = {f.path.parent: f for f in files if f.path is not None and f.kustomization}
    claimed: set[FilePath] = set()
    included: set[FilePath] = set()  # kustomization folders another one lists
    for folder, unit in units.items():
        claimed.add(unit.path)  # type: ignore[arg-type]
        for entry in _resources(unit):
            target = (folder / entry).resolve()
            if target in units:
                included.add(target)
            claimed.add(target)
        for patch_file in _patch_files(unit):
            claimed.add((folder / patch_file).resolve())
    renderer = _Renderer(by_path, units, note)
    scopes = [renderer.render(folder, ()) for folder in units if folder not in included]
    # A file no kustomization lists (even one beside a kustomization) is still checked,
    # with the rest of the run.
    loose = [obj for f in files if f.path is None or f.path not in claimed for obj in f.objects]
    return [loose, *scopes] if loose or not scopes else scopes


def _resources(unit: LoadedFile) -> list[str]:
    value = unit.kustomization or {}
    return [
        entry
        for key in RESOURCE_FIELDS
        for entry in _strings(value.get(key))
        if "://" not in entry and not entry.startswith(("github.com/", "git@"))
    ]


PATCH_FIELDS = ("patchesStrategicMerge", "patches", "patchesJson6902")


def _patch_entries(unit: LoadedFile) -> list[tuple[Path, Any]]:
    """Each patch entry of the kustomization, with where it is written in it."""
    value = unit.kustomization or {}
    return [((key, n), entry) for key in PATCH_FIELDS for n, entry in enumerate(_list(value, key))]


def _inline_patch(entry: Any) -> str | None:
    """The patch text an entry holds itself (a multi-line string, or `patch:`)."""
    inline = entry if isinstance(entry, str) and "\n" in entry else dig(entry, "patch")
    return inline if isinstance(inline, str) else None


def _patch_file(entry: Any) -> str | None:
    """The file an entry names (a one-line string, or `path:`)."""
    path = entry if isinstance(entry, str) and "\n" not in entry else dig(entry, "path")
    return path if isinstance(path, str) else None


def _patch_files(unit: LoadedFile) -> list[str]:
    return [path for _, entry in _patch_entries(unit) if (path := _patch_file(entry))]


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


class _Renderer:
    def __init__(
        self, files: dict[FilePath, LoadedFile], units: dict[FilePath, LoadedFile], note: Note
    ) -> None:
        self.files, self.units, self.note = files, units, note

    def render(self, folder: FilePath, seen: tuple[FilePath, ...]) -> list[K8sObject]:
        """The objects `kustomize build folder` would output, as far as zdlint models it."""
        unit = self.units[folder]
        value = unit.kustomization or {}
        objects: list[K8sObject] = []
        for entry in _resources(unit):
            target = (folder / entry).resolve()
            if target in self.units and target not in seen:
                objects += self.render(target, (*seen, folder))
            elif target in self.files:
                objects += self.files[target].objects
        for patcher in self._patches(unit, folder):
            objects = self._apply(objects, patcher, unit.display)
        objects = self._replicas(objects, unit)
        objects = self._images(objects, unit)
        namespace = value.get("namespace")
        if isinstance(namespace, str) and namespace:
            objects = [dataclasses.replace(obj, namespace=namespace) for obj in objects]
        return objects

    def _patches(self, unit: LoadedFile, folder: FilePath) -> list[_Patcher]:
        """Each patch of the unit, strategic-merge or JSON 6902, as its files hold it."""
        out: list[_Patcher] = []
        for where, entry in _patch_entries(unit):
            target = dig(entry, "target")
            if _inline_patch(entry) is not None:
                written = where if isinstance(entry, str) else (*where, "patch")
                out += self._inline(unit, written, target)
                continue
            path = _patch_file(entry)
            if path is None:
                continue
            patch_file = self.files.get((folder / path).resolve())
            if patch_file is None:
                self.note(
                    f"{unit.display}: the patch {path} is not among the files checked;"
                    " its base is checked unpatched"
                )
                continue
            out += [_Patcher(d, patch_file.display, target) for d in patch_file.documents]
        return out

    def _inline(self, unit: LoadedFile, where: Path, target: Any) -> list[_Patcher]:
        """The documents of a patch written inline as a literal block (`patch: |`),
        read in place so their positions are in the kustomization."""
        start, end = unit.documents[0].positions.values[where]
        local = unit.text[start - unit.origin : end - unit.origin]
        header, newline, body = local.partition("\n")
        if not header.startswith("|") or not newline:
            self.note(
                f"{unit.display}: an inline patch that is not a literal block (`|`) is not"
                " applied; its base is checked unpatched"
            )
            return []
        # Everything before the block's lines blanked (newlines kept): the block's own
        # indentation is valid YAML, and every offset stays the file's.
        before = unit.text[: start - unit.origin] + header
        text = re.sub(r"[^\n]", " ", before) + newline + body
        documents = load_documents(text, unit.display, unit.origin)
        return [_Patcher(d, unit.display, target) for d in documents if isinstance(d, Document)]

    def _apply(self, objects: list[K8sObject], patcher: _Patcher, unit: str) -> list[K8sObject]:
        """The objects with the patch applied to the ones it targets; a note when it
        targets none, or has operations zdlint cannot apply."""
        kind, name, namespace = patcher.target
        hits = [
            i
            for i, obj in enumerate(objects)
            if obj.kind == kind
            and obj.name == name
            and (not isinstance(namespace, str) or obj.namespace in (None, namespace))
        ]
        if not hits:
            self.note(
                f"{patcher.where}: a patch of {kind}/{name}, which is not among the files"
                f" {unit} lists and zdlint was given; skipped"
            )
            return objects
        out: list[K8sObject | None] = list(objects)
        for i in hits:
            out[i], skipped = patcher.apply(objects[i])
            for operation in skipped:
                self.note(f"{patcher.where}: the operation {operation} is not applied")
        return [obj for obj in out if obj is not None]

    def _replicas(self, objects: list[K8sObject], unit: LoadedFile) -> list[K8sObject]:
        """kustomize's `replicas:` field: a patch of spec.replicas written in the
        kustomization, so a finding about it points there."""
        document = unit.documents[0]
        for n, entry in enumerate(_list(unit.kustomization or {}, "replicas")):
            name, count = dig(entry, "name"), integer(dig(entry, "count"))
            if not isinstance(name, str) or count is None:
                continue
            count_span = document.positions.locate(("replicas", n, "count"))
            positions = Positions(
                {(): count_span, ("spec",): count_span, ("spec", "replicas"): count_span},
                {("spec", "replicas"): document.positions.locate(("replicas", n, "count"))},
            )
            patch = Patch({"spec": {"replicas": count}}, positions, ())
            objects = [
                apply_patch(obj, patch) if obj.name == name and obj.has("spec") else obj
                for obj in objects
            ]
        return objects

    def _images(self, objects: list[K8sObject], unit: LoadedFile) -> list[K8sObject]:
        """kustomize's `images:` field: each container whose image it renames or retags
        gets the new image, written (and so found) in the kustomization."""
        document = unit.documents[0]
        for n, entry in enumerate(_list(unit.kustomization or {}, "images")):
            name = dig(entry, "name")
            if not isinstance(name, str):
                continue
            span = document.positions.locate(("images", n))
            objects = [_retagged(obj, name, entry, span) for obj in objects]
        return objects


def _retagged(obj: K8sObject, name: str, entry: dict[str, Any], span: tuple[int, int]) -> K8sObject:
    """`obj` with the images named `name` replaced as the `images:` entry says."""
    template = pod_template(obj)
    if template is None:
        return obj
    patched: dict[str, list[dict[str, str]]] = {}
    places: dict[Path, tuple[int, int]] = {}
    for container in template.all_containers:
        image = container.image
        if image is None or not isinstance(container.spec.get("name"), str):
            continue
        new = _new_image(image, name, entry)
        if new is None or new == image:
            continue
        key = "initContainers" if container.init else "containers"
        items = patched.setdefault(key, [])
        image_path: Path = (*template.path, "spec", key, len(items), "image")
        places[image_path] = span
        items.append({"name": container.name, "image": new})
    if not patched:
        return obj
    value: dict[Any, Any] = {"spec": patched}
    for step in reversed(template.path):
        value = {step: value}
    return apply_patch(obj, Patch(value, Positions(places, dict(places)), ()))


def _new_image(image: str, name: str, entry: dict[str, Any]) -> str | None:
    """The image an `images:` entry makes of `image`, or None when it names another."""
    base, at, digest = image.partition("@")
    slash = base.rfind("/")
    colon = base.rfind(":")
    repository, tag = (base[:colon], base[colon:]) if colon > slash else (base, "")
    if repository != name:
        return None
    suffix = f"@{digest}" if at else tag
    new_name, new_tag, new_digest = (dig(entry, key) for key in ("newName", "newTag", "digest"))
    if isinstance(new_digest, str):
        suffix = f"@{new_digest}"
    elif isinstance(new_tag, (str, int)) and not isinstance(new_tag, bool):
        suffix = f":{new_tag}"
    return (new_name if isinstance(new_name, str) else repository) + suffix


@dataclass(frozen=True)
class _Patcher:
    """One patch document and the `target` its kustomization entry gives (which may
    name the object a strategic-merge patch leaves unnamed; a JSON patch needs it)."""

    document: Document
    where: str  # the patch file, for notes
    entry_target: Any

    @property
    def target(self) -> tuple[Any, Any, Any]:
        """The kind, name and namespace of the objects the patch applies to."""
        value, entry = self.document.value, self.entry_target
        kind = dig(entry, "kind") or dig(value, "kind")
        name = dig(entry, "name") or dig(value, "metadata", "name")
        return kind, name, dig(entry, "namespace") or dig(value, "metadata", "namespace")

    def apply(self, obj: K8sObject) -> tuple[K8sObject | None, list[str]]:
        """The patched object (None when the patch deletes it: `$patch: delete`), and
        the operations left unapplied."""
        value, positions = self.document.value, self.document.positions
        if isinstance(value, list):
            return apply_json_patch(obj, value, positions)
        if isinstance(value, dict) and value.get(DIRECTIVE) == "delete":
            return None, []
        if isinstance(value, dict):
            return apply_patch(obj, Patch(value, positions, ())), []
        return obj, []


def _list(value: dict[str, Any], key: str) -> list[Any]:
    items = value.get(key)
    return items if isinstance(items, list) else []
