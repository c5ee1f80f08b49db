"""ZK206: an image without a tag (or `:latest`) is not a version you can roll back to."""

from __future__ import annotations

from collections.abc import Iterator

from zdlint.k8s.checks import Flag, flag
from zdlint.k8s.graph import Scope
from zdlint.k8s.model import PodTemplate
from zdlint.k8s.options import K8sOptions


def image_tag(image: str) -> str | None:
    """The tag of an image reference; None when there is none. Digests count as pinned."""
    if "@" in image:
        return "@digest"
    name = image.rsplit("/", 1)[-1]
    return name.split(":", 1)[1] if ":" in name else None


def check(scope: Scope, options: K8sOptions) -> Iterator[Flag]:
    templates: list[PodTemplate] = [w.template for w in scope.workloads]
    templates += [j.template for j in scope.jobs]
    for template in templates:
        for container in template.all_containers:
            image = container.image
            if image is None or "$" in image:
                continue  # an unexpanded variable: the tag is decided elsewhere
            tag = image_tag(image)
            if tag is not None and tag != "latest":
                continue
            yield flag(
                template.obj,
                template.container_span(container, "image"),
                object=template.obj.ref,
                container=container.name,
                image=image,
                problem="the tag `latest`" if tag == "latest" else "no tag",
            )


CHECKS = [("ZK206", check)]
