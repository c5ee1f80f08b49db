"""ZK206: an image without a fixed tag is not a version you can roll back to."""

from __future__ import annotations

import re
from collections.abc import Iterator

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.model import PodTemplate
from zdlint.k8s.options import K8sOptions

# Tags that name a channel, not a build: each push moves them.
MOVING_TAGS = frozenset(
    {
        "latest", "stable", "edge", "lts", "current", "mainline", "rolling", "nightly",
        "main", "master", "dev", "develop", "alpine", "slim",
    }
)  # fmt: skip
# A major version alone (`1`, `v18`, `18-alpine`, `3-slim-bookworm`): every minor and
# patch release of that major moves it.
_MAJOR_ONLY = re.compile(r"^v?\d+(?:-[a-z][a-z0-9.-]*)?$", re.I)
# What an image reference may hold (lowercase path, tag characters, digest). Anything
# else — `<image>`, `${IMAGE}`, `{{ .Values.image }}`, `IMAGE_PLACEHOLDER` — is a
# placeholder for a tool to fill in, never pulled as written.
_REFERENCE = re.compile(r"^[a-z0-9][a-z0-9._/:-]*(?::[A-Za-z0-9_.-]+)?(?:@[a-z0-9]+:[a-f0-9]+)?$")


def image_tag(image: str) -> str | None:
    """The tag of an image reference; None when there is none. Digests count as pinned."""
    if "@" in image:
        return "@digest"
    name = image.rsplit("/", 1)[-1]
    return name.split(":", 1)[1] if ":" in name else None


def is_placeholder(image: str) -> bool:
    """An image reference no registry could serve: a template or documentation stand-in."""
    return _REFERENCE.match(image) is None


def tag_problem(image: str) -> str | None:
    """Why an image's tag does not pin a build; None when it does."""
    tag = image_tag(image)
    if tag is None:
        return "no tag (so `latest`)"
    if tag.lower() in MOVING_TAGS:
        return f"the moving tag `{tag}`"
    if _MAJOR_ONLY.match(tag):
        return f"the major-version tag `{tag}`, which moves with every release of that major"
    return None


def check(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    templates: list[PodTemplate] = [w.template for w in scope.workloads]
    templates += [j.template for j in scope.jobs]
    for template in templates:
        for container in template.all_containers:
            image = container.image
            if image is None or is_placeholder(image):
                continue
            problem = tag_problem(image)
            if problem is None:
                continue
            yield flag(
                template.obj,
                template.container_span(container, "image"),
                object=template.obj.ref,
                container=container.name,
                image=image,
                problem=problem,
            )


CHECKS = [("ZK206", check)]
