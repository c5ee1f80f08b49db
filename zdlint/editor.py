"""What the language server knows, without the protocol: check an editor buffer, fix
it, and write a suppression for one of its findings.

A `Workspace` lives as long as the server. It keeps the settings, the catalogue and the
schema history, and remembers for each open migration the schema just before it, so a
keystroke costs only the check of the buffer itself. Saving any file forgets all of
that: the migrations before a file are read from disk, as `zdlint check` reads them.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pglast import ast

from zdlint.catalogue import Catalogue, Rule
from zdlint.config import Settings
from zdlint.discover import K8S, K8S_JSON, Target, kind_of_name, kind_of_text
from zdlint.findings import FileReport, Finding

if TYPE_CHECKING:
    from zdlint.sql.history import History
    from zdlint.sql.schema import SchemaModel

SUPPRESSION_REASON = "say why this is safe here"
# Shared, not copied: values nothing changes in place (the model replaces them)
_IMMUTABLE = (str, int, float, bool, type(None), bytes, frozenset, enum.Enum)
_ANNOTATIONS = re.compile(r"^(\s*)annotations:\s*(#.*)?$")
_DOCUMENT_START = re.compile(r"^---")


@dataclass(frozen=True)
class Insertion:
    """Text to insert before line `line` (0-based), column 0."""

    line: int
    text: str


class ResidentHistory:
    """The run's History, plus the schema before each file checked, kept for the next
    check of the same file (the History itself only moves forward through a folder)."""

    def __init__(self, history: History) -> None:
        self.history = history
        self._before: dict[Path, SchemaModel] = {}

    def model_before(self, path: Path, lazy: bool = True) -> SchemaModel:
        """A model of the schema before `path` that the caller may change: a lazy copy
        (`copy_model`), or with `lazy=False` a plain one, for code that copies it again."""
        target = self.history.resolve(path)
        kept = self._before.get(target)
        if kept is None:
            # Not `checked`: the History's model stays just before `path`, so a later
            # file of the folder replays `path` from disk, as the CLI would.
            # The History goes on changing its model for the files after `path`.
            kept = self._before[target] = copy.deepcopy(self.history.model_before(path))
        return copy_model(kept) if lazy else copy.deepcopy(kept)


def copy_model(model: SchemaModel) -> SchemaModel:
    """A copy of `model` that checking a file may change, leaving `model` as it was.

    Each dict of the model (tables, their columns and constraints, indexes, …) is
    copied shallowly, and an entry of it only when the check first reads that entry:
    a migration about three tables pays for three, not for the whole schema. The parse
    trees the model keeps (defaults, index and constraint definitions) are shared, since
    the model replaces them and never edits one, and so are frozen dataclasses and other
    immutable values.
    """
    copied: SchemaModel = _copy(model)
    return copied


class _CopyOnRead(dict):  # type: ignore[type-arg]
    """A dict whose values are copied (`_copy`) the first time they are read."""

    def __init__(self, original: dict[Any, Any]) -> None:
        dict.update(self, dict.items(original))  # as they are: nothing copied yet
        self._fresh: set[Any] = set()

    def _own(self, key: Any) -> Any:
        value = super().__getitem__(key)
        if key not in self._fresh:
            value = _copy(value)
            super().__setitem__(key, value)
            self._fresh.add(key)
        return value

    def __getitem__(self, key: Any) -> Any:
        return self._own(key)

    def get(self, key: Any, default: Any = None) -> Any:
        return self._own(key) if key in self else default

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self._fresh.add(key)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self._own(key)

    def pop(self, key: Any, *default: Any) -> Any:
        if key in self:
            value = self._own(key)
            super().pop(key)
            return value
        return super().pop(key, *default)

    def values(self) -> Any:
        return [self._own(key) for key in list(self)]

    def items(self) -> Any:
        return [(key, self._own(key)) for key in list(self)]

    def copy(self) -> dict[Any, Any]:
        return dict(self.items())


def _copy(value: Any) -> Any:
    if isinstance(value, (_IMMUTABLE, ast.Node)):
        return value
    kind = type(value)
    if kind is dict or kind is _CopyOnRead:
        return _CopyOnRead(value)
    if kind is list:
        return [_copy(item) for item in value]
    if kind is set:
        return set(value)  # members are hashable, so immutable here
    if kind is tuple:
        return tuple(_copy(item) for item in value)
    if dataclasses.is_dataclass(value):
        if kind.__dataclass_params__.frozen:  # type: ignore[attr-defined]
            return value
        clone = object.__new__(kind)
        clone.__dict__.update((name, _copy(item)) for name, item in value.__dict__.items())
        return clone
    raise TypeError(f"the schema model holds a {kind.__name__}, which copy_model does not know")


class _OneFileHistory:
    """Stands in for the History in `lint_bytes`: hands out the kept model."""

    def __init__(self, resident: ResidentHistory) -> None:
        self.resident = resident
        self.seed = resident.history.seed
        self.enabled = resident.history.enabled

    @property
    def python(self) -> object:
        """What the Python migration front ends keep: the History's, for every check."""
        return self.resident.history.python

    @python.setter
    def python(self, value: object) -> None:
        self.resident.history.python = value

    def model_before(self, path: Path | None) -> SchemaModel:
        if path is None:
            return self.resident.history.model_before(None)
        return self.resident.model_before(path)

    def checked(self, path: Path | None) -> None:
        pass

    def resolve(self, path: Path) -> Path:
        return self.resident.history.resolve(path)


class Workspace:
    """Settings, catalogue and schema history shared by every request of a session."""

    def __init__(self, settings: Settings, catalogue: Catalogue) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self._resident: ResidentHistory | None = None

    @property
    def resident(self) -> ResidentHistory:
        if self._resident is None:
            from zdlint.lint import new_history

            self._resident = ResidentHistory(new_history(self.settings))
        return self._resident

    def forget(self) -> None:
        """A file was saved or changed on disk: replay the history afresh next time."""
        self._resident = None

    def check(self, path: Path, text: str) -> FileReport:
        """The findings for the buffer `text` of the file at `path`."""
        from zdlint.lint import lint_bytes
        from zdlint.sql.tools import remembered_files

        target = Target(path.as_posix(), path, kind_of_name(path))
        stand_in = _OneFileHistory(self.resident)
        with remembered_files():
            return lint_bytes(
                path.as_posix(),
                target,
                text.encode(),
                self.settings,
                self.catalogue,
                stand_in,  # type: ignore[arg-type]
            )

    def fixed_text(self, path: Path, text: str) -> str | None:
        """The buffer as `zdlint fix` leaves it, when the fix stays in this one file and
        changes something; None otherwise (a fix that adds migrations is for the CLI)."""
        from zdlint.fix.command import fix_options
        from zdlint.fix.fixer import FixRefused, fix_text
        from zdlint.fix.layout import LayoutError

        try:
            options = fix_options(self.settings.fix, {})
            schema = self.resident.model_before(path, lazy=False) if self.settings.history else None
            result = fix_text(
                path.as_posix(), path, text, self.settings, self.catalogue, options, schema
            )
        except (FixRefused, LayoutError, ValueError):
            return None
        if len(result.outputs) != 1 or not result.changed:
            return None
        output = result.outputs[0]
        if output.path.resolve() != path.resolve():
            return None
        return output.text

    def rule(self, code: str) -> Rule | None:
        return self.catalogue.get(code)


def hover_text(rule: Rule) -> str:
    """Markdown for a hover over a finding: the rule, why it matters, what to do."""
    parts = [f"**{rule.code} {rule.name}**: {rule.summary}."]
    for text in (rule.why, rule.instead):
        if text.strip():
            parts.append(text.strip())
    return "\n\n".join(parts)


def suppression(finding: Finding, text: str) -> Insertion | None:
    """Where and what to write so that `finding` is suppressed in `text`."""
    manifest = kind_of_name(Path(finding.path)) in (K8S, K8S_JSON) or kind_of_text(text) in (
        K8S,
        K8S_JSON,
    )
    if manifest:
        return manifest_suppression(finding, text)
    return sql_suppression(finding, text)


def sql_suppression(finding: Finding, text: str) -> Insertion:
    """A `-- zdlint: ignore[CODE]` comment on the line above the finding's statement."""
    line = (finding.place[0] if finding.place else finding.span.line) - 1
    lines = text.splitlines()
    current = lines[line] if line < len(lines) else ""
    indent = current[: len(current) - len(current.lstrip())]
    return Insertion(line, f"{indent}-- zdlint: ignore[{finding.code}] {SUPPRESSION_REASON}\n")


def manifest_suppression(finding: Finding, text: str) -> Insertion | None:
    """A `zdlint.io/ignore` annotation in the metadata of the object the finding is in;
    None for JSON, or when the object has an ignore annotation already (edit that)."""
    from zdlint.k8s.model import IGNORE_ANNOTATION

    lines = text.splitlines()
    if text.lstrip().startswith(("{", "[")):
        return None
    line = finding.span.line - 1
    start = line
    while start > 0 and not _DOCUMENT_START.match(lines[start]):
        start -= 1
    end = line + 1
    while end < len(lines) and not _DOCUMENT_START.match(lines[end]):
        end += 1
    document = range(start, end)
    metadata = next((i for i in document if re.match(r"^metadata:\s*(#.*)?$", lines[i])), None)
    if metadata is None:
        return None
    if any(IGNORE_ANNOTATION in lines[i] for i in document):
        return None
    value = f'{IGNORE_ANNOTATION}: "{finding.code} {SUPPRESSION_REASON}"'
    for i in range(metadata + 1, end):
        if lines[i].strip() and not lines[i].startswith((" ", "\t")):
            break  # left metadata
        found = _ANNOTATIONS.match(lines[i])
        if found:
            child = _child_indent(lines, i, end, found.group(1))
            return Insertion(i + 1, f"{child}{value}\n")
    indent = _child_indent(lines, metadata, end, "")
    return Insertion(metadata + 1, f"{indent}annotations:\n{indent}  {value}\n")


def _child_indent(lines: list[str], parent: int, end: int, parent_indent: str) -> str:
    """The indentation of the first line below `parent` (two more spaces if none)."""
    for i in range(parent + 1, end):
        stripped = lines[i].lstrip()
        if stripped and not stripped.startswith("#"):
            indent = lines[i][: len(lines[i]) - len(stripped)]
            if len(indent) > len(parent_indent):
                return indent
            break
    return parent_indent + "  "
