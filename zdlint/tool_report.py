"""Which migration tool runs each folder, and why: `check --show-settings` and `-v`.

Files are grouped by migration folder (the folder above `<version>/up.sql` or
`<timestamp>/migration.sql` for tools that keep one migration per folder). A folder is
described by what most of its files share; files that differ are listed on their own.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from pathlib import Path

from zdlint.config import Settings
from zdlint.discover import K8S, SQL, DiscoveryError, discover, kind_of_text
from zdlint.source import UndecodableFile, decode


@dataclass(frozen=True)
class FileTool:
    """The tool detected for one file, why, and how it runs the file."""

    path: Path
    tool: str
    reason: str
    transactions: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.tool, self.reason, self.transactions)


@dataclass
class Folder:
    path: str
    files: list[FileTool] = field(default_factory=list)

    @property
    def usual(self) -> FileTool:
        """A file with the description most files of the folder share."""
        counts = Counter(f.key for f in self.files)
        key = max(counts, key=lambda k: counts[k])  # first seen wins a tie
        return next(f for f in self.files if f.key == key)

    @property
    def different(self) -> list[FileTool]:
        usual = self.usual.key
        return [f for f in self.files if f.key != usual]


@dataclass
class Detection:
    folders: list[Folder] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def detect_folders(arguments: list[str], settings: Settings) -> Detection:
    """The tool of every SQL file the arguments name, grouped by migration folder."""
    from zdlint.config import is_excluded
    from zdlint.sql.history import PER_FOLDER_NAMES
    from zdlint.sql.placeholders import substitute_placeholders
    from zdlint.sql.tools import apply_transaction_mode, describe_transactions, detect_tool

    detection = Detection()
    by_folder: dict[str, Folder] = {}

    def skipped(path: Path, reason: str, _named: bool) -> None:
        detection.skipped.append((path, reason))

    for target in discover(arguments, lambda p: is_excluded(p, settings), skipped):
        if isinstance(target, DiscoveryError):
            detection.errors.append(str(target))
            continue
        path = target.path
        if path is None or target.kind not in (SQL, None):
            continue
        try:
            text = decode(path.read_bytes())
        except (OSError, UndecodableFile):
            continue  # `check` reports it
        if target.kind is None and kind_of_text(text) == K8S:
            continue
        checked = substitute_placeholders(text) if settings.templates else text
        layout = detect_tool(path, checked, settings.tool_for(path))
        layout = apply_transaction_mode(layout, settings.transaction)
        folder = path.parent.parent if path.name in PER_FOLDER_NAMES else path.parent
        name = folder.as_posix()
        if name not in by_folder:
            by_folder[name] = Folder(name)
            detection.folders.append(by_folder[name])
        by_folder[name].files.append(
            FileTool(path, layout.tool, layout.reason, describe_transactions(layout))
        )
    return detection


def verbose_lines(detection: Detection) -> list[str]:
    """One line per folder (and per file that differs from its folder, or is skipped)."""
    lines = []
    for folder in detection.folders:
        usual = folder.usual
        lines.append(f"{folder.path}: {usual.tool} ({usual.reason})")
        lines.extend(f"  {f.path.as_posix()}: {f.tool} ({f.reason})" for f in folder.different)
    lines.extend(f"{path.as_posix()}: skipped: {reason}" for path, reason in detection.skipped)
    return lines


def show_settings(detection: Detection, settings: Settings) -> str:
    """What `zdlint check --show-settings` prints."""
    out: list[str] = []
    for folder in detection.folders:
        usual = folder.usual
        count = len(folder.files)
        out.append(f"{folder.path}/ ({count} file{'s' if count != 1 else ''})")
        out.append(f"  tool: {usual.tool}")
        out.append(f"  why: {usual.reason}")
        out.append(f"  transactions: {usual.transactions}")
        out.append(f"  pg-version: {settings.pg_version}")
        different = folder.different
        if different:
            out.append("  files that differ:")
            for f in different:
                out.append(f"    {f.path.name}: {f.tool} ({f.reason}); {f.transactions}")
        out.append("")
    for path, reason in detection.skipped:
        out.append(f"skipped {path.as_posix()}: {reason}")
    if detection.skipped:
        out.append("")
    if not detection.folders:
        out.extend(["no SQL migrations found", ""])
    out.append(f"Settings path: {settings.source if settings.source else '(none: defaults)'}")
    out.append("Resolved settings:")
    for item in fields(settings):
        if item.name == "source":
            continue
        out.append(f"  {item.name.replace('_', '-')} = {_value(getattr(settings, item.name))}")
    return "\n".join(out) + "\n"


def _value(value: object) -> str:
    if value is None:
        return "(default)"
    if isinstance(value, tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Path):
        return f'"{value.as_posix()}"'
    label = getattr(value, "label", None)  # Severity
    return f'"{label}"' if isinstance(label, str) else str(value)
