"""`zdlint check --render DIR`: check what kustomize or Helm would deploy from DIR.

A folder with a kustomization is rendered by `kustomize build` (or `kubectl kustomize`),
a chart (a folder with Chart.yaml) by `helm template`. The rendered stream is checked as
one text, so findings point into it. Without the tool the folder is checked as it is,
and the note says so.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from zdlint.k8s.kustomize import KUSTOMIZATION_NAMES

TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Rendered:
    display: str  # the command, as reports name the stream
    text: str


@dataclass(frozen=True)
class NotRendered:
    reason: str  # a sentence for the note: why the folder is checked as it is


# What renders a folder, by the file that marks it: the commands to try, in order.
RENDERERS: tuple[tuple[tuple[str, ...], tuple[tuple[str, ...], ...], str], ...] = (
    (
        KUSTOMIZATION_NAMES,
        (("kustomize", "build"), ("kubectl", "kustomize")),
        "neither kustomize nor kubectl is on PATH; its files are checked as they are,"
        " with the patches zdlint can merge itself",
    ),
    (
        ("Chart.yaml",),
        (("helm", "template"),),
        "helm is not on PATH; the chart's templates are checked as they are (template"
        " actions are reported as unrendered)",
    ),
)


def render_folder(folder: Path) -> Rendered | NotRendered | None:
    """The folder rendered; NotRendered when it could not be; None when it is neither a
    kustomization nor a chart."""
    for markers, commands, missing in RENDERERS:
        if not any((folder / name).is_file() for name in markers):
            continue
        for tool, verb in commands:
            executable = shutil.which(tool)
            if executable is not None:
                return _run([executable, verb, str(folder)], f"{tool} {verb} {folder}")
        return NotRendered(f"{folder}: not rendered: {missing}")
    return None


def _run(command: list[str], display: str) -> Rendered | NotRendered:
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return NotRendered(f"`{display}` could not run ({exc}); checked as it is")
    if done.returncode != 0:
        error = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return NotRendered(f"`{display}` failed: {error}; checked as it is")
    return Rendered(display, done.stdout)
