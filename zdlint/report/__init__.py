"""Reporters: one module per `--output-format`, imported only when that format is chosen.

Each module has `render(reports, catalogue, *, color=False) -> str`. The text returned is
the whole output, trailing newline included (empty for `json-lines`, `github` with no
findings): write it as it is, without adding a newline. A module may also have
`prepare(report, *, color=False) -> FileReport`, the per-file part of its work, which
the run applies to each report in the process that checked the file.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import replace
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zdlint.catalogue import Catalogue
    from zdlint.findings import FileReport

FORMATS = ("full", "concise", "json", "json-lines", "sarif", "github", "gitlab", "junit")

_MODULES = {
    "full": "full",
    "concise": "concise",
    "json": "json_report",  # not `json`, which would shadow the standard library's name
    "json-lines": "json_lines",
    "sarif": "sarif",
    "github": "github",
    "gitlab": "gitlab",
    "junit": "junit",
}


def render(
    fmt: str, reports: list[FileReport], catalogue: Catalogue, *, color: bool = False
) -> str:
    """Render the reports in output format `fmt` (one of FORMATS); raise ValueError if unknown."""
    return _module(fmt).render(reports, catalogue, color=color)  # type: ignore[no-any-return]


def preparer(fmt: str, *, color: bool = False) -> Callable[[FileReport], FileReport] | None:
    """The per-file part of format `fmt`'s work, for `lint_paths(prepare=…)`; None if it
    has none."""
    prepare = getattr(_module(fmt), "prepare", None)
    if prepare is None:
        return None
    return lambda report: prepare(report, color=color)  # type: ignore[no-any-return]


def drop_text(report: FileReport, *, color: bool = False) -> FileReport:
    """`prepare` of the formats that never show a file's text: the run need not keep
    every checked file's text until the end."""
    return report if report.text is None else replace(report, text=None)


def _module(fmt: str) -> ModuleType:
    if fmt not in _MODULES:
        raise ValueError(f"unknown output format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    return importlib.import_module(f"{__name__}.{_MODULES[fmt]}")
