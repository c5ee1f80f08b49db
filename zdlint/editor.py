"""What the language server knows, without the protocol: check an editor buffer, fix
it, and write a suppression for one of its findings.

A `Workspace` lives as long as the server. It keeps the settings, the catalogue and the
schema history, and remembers for each open migration the schema just before it, so a
keystroke costs only the check of the buffer itself. Saving any file forgets all of
that: the migrations before a file are read from disk, as `zdlint check` reads them.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from zdlint.catalogue import Catalogue, Rule
from zdlint.config import Settings
from zdlint.discover import K8S, K8S_JSON, Target, kind_of_name, kind_of_text
from zdlint.findings import FileReport, Finding

if TYPE_CHECKING:
    from zdlint.sql.history import History
    from zdlint.sql.schema import SchemaModel

SUPPRESSION_REASON = "say why this is safe here"
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

    def model_before(self, path: Path) -> SchemaModel:
        """A model of the schema before `path` that the caller may change."""
        target = self.history.resolve(path)
        kept = self._before.get(target)
        if kept is None:
            # Not `checked`: the History's model stays just before `path`, so a later
            # file of the folder replays `path` from disk, as the CLI would.
            kept = self._before[target] = copy.deepcopy(self.history.model_before(path))
        return copy.deepcopy(kept)


class _OneFileHistory:
    """Stands in for the History in `lint_bytes`: hands out the kept model."""

    def __init__(self, resident: ResidentHistory) -> None:
        self.resident = resident
        self.seed = resident.history.seed
        self.python = resident.history.python
        self.enabled = resident.history.enabled

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
            schema = self.resident.model_before(path) if self.settings.history else None
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
