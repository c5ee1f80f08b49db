"""`zdlint.io/ignore: "ZK101 reason, ZK205"` annotations on manifest objects.

The annotation may sit on the object's metadata or on its pod template's, and covers the
findings about the object: those flagged on it and those whose message names it (the
autoscaler's single-replica finding names the Deployment it scales). Each item is a rule
code or name followed by a free-text reason; a reason may itself hold commas, since only
an item that starts with a rule code or name starts a new item. `ALL` covers every rule.
An empty value suppresses nothing, and is reported as such.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from zdlint.catalogue import Catalogue, Rule
from zdlint.k8s.checks import Flag
from zdlint.k8s.graph import nearest, same_namespace
from zdlint.k8s.load import Path
from zdlint.k8s.model import (
    DEFAULT_TEMPLATE_PATH,
    IGNORE_ANNOTATION,
    POD_KINDS,
    TEMPLATE_PATHS,
    K8sObject,
    string_map,
)

EVERY_RULE = "ALL"
EMPTY_REASON = (
    " (the value is empty, so it suppresses nothing: name the rules, as in"
    " `ZK205 one pod in staging`)"
)
_CODE = re.compile(r"^[A-Za-z]{2}\d{3}$")


@dataclass
class Suppression:
    """One annotation: where it is written, and the tokens it names."""

    span: tuple[int, int]
    tokens: tuple[str, ...]  # codes or names as written; empty when the value is empty
    used: set[str] = field(default_factory=set)


def suppressions_of(obj: K8sObject, catalogue: Catalogue) -> list[Suppression]:
    """The object's annotation and its pod template's, where present."""
    found = []
    for path in _annotation_homes(obj):
        value = string_map(obj.get(*path, "metadata", "annotations")).get(IGNORE_ANNOTATION)
        if value is not None:
            span = obj.span(*path, "metadata", "annotations", IGNORE_ANNOTATION)
            found.append(Suppression(span, _tokens(value, catalogue)))
    return found


def _annotation_homes(obj: K8sObject) -> list[Path]:
    homes: list[Path] = [()]
    if obj.kind in POD_KINDS:
        template = TEMPLATE_PATHS.get(obj.kind, DEFAULT_TEMPLATE_PATH)
        if template:  # a Pod is its own template
            homes.append(template)
    return homes


def _tokens(value: str, catalogue: Catalogue) -> tuple[str, ...]:
    """The rule tokens of an annotation value: an item whose first word is no rule code
    or name continues the reason of the item before it."""
    tokens: list[str] = []
    for item in value.split(","):
        words = item.split()
        if not words:
            continue
        first = words[0]
        if not tokens or _names_a_rule(first, catalogue):
            tokens.append(first)
    return tuple(tokens)


def _names_a_rule(word: str, catalogue: Catalogue) -> bool:
    return word == EVERY_RULE or catalogue.get(word) is not None or bool(_CODE.match(word))


@dataclass(frozen=True)
class Unused:
    """A suppression token that matched nothing: the facts for ZD002's message."""

    span: tuple[int, int]
    codes: str
    reason: str


def apply_suppressions(
    flagged: Iterable[tuple[Rule, Flag]], objects: Iterable[K8sObject], catalogue: Catalogue
) -> tuple[list[tuple[Rule, Flag]], list[Unused]]:
    """The flags no annotation suppresses, and the annotations that suppressed nothing.

    `objects` are every object the flags were found among; one annotation seen through
    several objects (a base and its patched copy) is one suppression.
    """
    objects = list({id(obj): obj for obj in objects}.values())
    by_span: dict[tuple[int, int], Suppression] = {}
    of_object: dict[int, list[Suppression]] = {}
    for obj in objects:
        for found in suppressions_of(obj, catalogue):
            kept = by_span.setdefault(found.span, found)
            of_object.setdefault(id(obj), []).append(kept)
    by_ref: dict[str, list[K8sObject]] = {}
    for obj in objects:
        by_ref.setdefault(obj.ref, []).append(obj)
    kept_flags = []
    for rule, result in flagged:
        covering = [s for obj in _named(result, by_ref) for s in of_object.get(id(obj), [])]
        token = next(
            (t for s in covering if (t := _matching_token(s, rule, catalogue)) is not None),
            None,
        )
        if token is None:
            kept_flags.append((rule, result))
            continue
        for s in covering:
            if token in s.tokens:
                s.used.add(token)
    unused = [u for s in by_span.values() for u in _unused(s, catalogue)]
    return kept_flags, unused


def _named(result: Flag, by_ref: dict[str, list[K8sObject]]) -> list[K8sObject]:
    """The flagged object, and the objects its message names (by `Kind/name`)."""
    named = [result.obj]
    for value in result.hit.fields.values():
        if not isinstance(value, str):
            continue
        for ref in {part.strip() for part in value.split(",")}:
            candidates = [o for o in by_ref.get(ref, []) if same_namespace(o, result.obj)]
            named += nearest(candidates, result.obj)
    return named


def _matching_token(suppression: Suppression, rule: Rule, catalogue: Catalogue) -> str | None:
    """The token that covers the rule, or None."""
    for token in suppression.tokens:
        if token == EVERY_RULE:
            return token
        named = catalogue.get(token)
        if named is not None and named.code == rule.code:
            return token
    return None


def _unused(suppression: Suppression, catalogue: Catalogue) -> list[Unused]:
    span = suppression.span
    if not suppression.tokens:
        return [Unused(span, "no rule", EMPTY_REASON)]
    out = []
    for token in suppression.tokens:
        if token in suppression.used:
            continue
        known = token == EVERY_RULE or catalogue.get(token) is not None
        reason = "" if known else f" (no rule is called `{token}`)"
        shown = "every rule" if token == EVERY_RULE else f"`{token}`"
        out.append(Unused(span, shown, reason))
    return out
