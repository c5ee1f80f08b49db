"""`zdlint.io/ignore: "ZK101 reason, ZK205"` annotations on manifest objects."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from zdlint.catalogue import Catalogue, Rule
from zdlint.k8s.checks import Flag
from zdlint.k8s.model import IGNORE_ANNOTATION, K8sObject


@dataclass
class Suppression:
    obj: K8sObject
    tokens: tuple[str, ...]  # codes or names as written; empty means every rule
    used: set[str] = field(default_factory=set)
    used_any: bool = False

    @property
    def span(self) -> tuple[int, int]:
        return self.obj.span("metadata", "annotations", IGNORE_ANNOTATION)


def suppression_of(obj: K8sObject) -> Suppression | None:
    value = obj.annotations.get(IGNORE_ANNOTATION)
    if value is None:
        return None
    # Each comma-separated item is a code or name, then an optional free-text reason.
    tokens = tuple(item.split()[0] for item in value.split(",") if item.strip())
    return Suppression(obj, tokens)


@dataclass(frozen=True)
class Unused:
    """A suppression token that matched nothing: the facts for ZD002's message."""

    obj: K8sObject
    span: tuple[int, int]
    codes: str
    reason: str


def apply_suppressions(
    flagged: Iterable[tuple[Rule, Flag]], objects: Iterable[K8sObject], catalogue: Catalogue
) -> tuple[list[tuple[Rule, Flag]], list[Unused]]:
    """The flags no annotation suppresses, and the annotations that suppressed nothing."""
    suppressions = {id(obj): s for obj in objects if (s := suppression_of(obj)) is not None}
    kept = []
    for rule, flag in flagged:
        suppression = suppressions.get(id(flag.obj))
        token = _matching_token(suppression, rule, catalogue) if suppression else None
        if token is None:
            kept.append((rule, flag))
            continue
        assert suppression is not None
        suppression.used_any = True
        if token:
            suppression.used.add(token)
    unused = [u for s in suppressions.values() for u in _unused(s, catalogue)]
    return kept, unused


def _matching_token(suppression: Suppression, rule: Rule, catalogue: Catalogue) -> str | None:
    """The token that covers the rule ('' when the annotation names no rule), or None."""
    if not suppression.tokens:
        return ""
    for token in suppression.tokens:
        named = catalogue.get(token)
        if named is not None and named.code == rule.code:
            return token
    return None


def _unused(suppression: Suppression, catalogue: Catalogue) -> list[Unused]:
    obj, span = suppression.obj, suppression.span
    if not suppression.tokens:
        return [] if suppression.used_any else [Unused(obj, span, "every rule", "")]
    out = []
    for token in suppression.tokens:
        if token in suppression.used:
            continue
        known = catalogue.get(token) is not None
        reason = "" if known else f" (no rule is called `{token}`)"
        out.append(Unused(obj, span, f"`{token}`", reason))
    return out
