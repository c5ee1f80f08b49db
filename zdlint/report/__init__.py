"""Reporters: one module per `--output-format`, imported only when that format is chosen.

Each module has `render(reports, catalogue, *, color=False) -> str`. The text returned is
the whole output, trailing newline included (empty for `json-lines`, `github` with no
findings): write it as it is, without adding a newline.
"""

from __future__ import annotations

import importlib
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
    if fmt not in _MODULES:
        raise ValueError(f"unknown output format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    module = importlib.import_module(f"{__name__}.{_MODULES[fmt]}")
    return module.render(reports, catalogue, color=color)  # type: ignore[no-any-return]
