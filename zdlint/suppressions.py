"""`-- zdlint: ignore[…]` and `-- zdlint: file-ignore[…]` comments in SQL files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pglast import parser as pg_parser

from zdlint.catalogue import Catalogue
from zdlint.findings import Finding, Hit
from zdlint.source import SourceText

UNUSED_SUPPRESSION = "ZD002"
_DIRECTIVE = re.compile(r"zdlint:\s*(ignore|file-ignore)\b(?:\[([^\]]*)\])?[ \t]*(.*)", re.I)
_LINE_COMMENT = re.compile(r"--[^\n]*")


@dataclass
class Suppression:
    """One `zdlint: ignore` or `zdlint: file-ignore` comment, and what it silenced."""

    kind: str  # "ignore" or "file-ignore"
    tokens: tuple[str, ...]  # codes or names as written; empty means every rule
    start: int
    end: int
    used: set[str] = field(default_factory=set)  # tokens that suppressed something
    used_any: bool = False


def _comments(text: str) -> list[tuple[int, int]]:
    """(start, end) of every comment; the scanner knows strings from comments."""
    try:
        tokens = pg_parser.scan(text)
    except pg_parser.ParseError:
        return [(m.start(), m.end()) for m in _LINE_COMMENT.finditer(text)]
    return [(t.start, t.end + 1) for t in tokens if t.name in ("SQL_COMMENT", "C_COMMENT")]


def find_suppressions(
    text: str, comments: list[tuple[int, int]] | None = None
) -> list[Suppression]:
    """The directives in `text`'s comments: SQL comments, or the (start, end) given."""
    if "zdlint:" not in text:
        return []
    found = []
    for start, end in _comments(text) if comments is None else comments:
        match = _DIRECTIVE.search(text, start, end)
        if match is None:
            continue
        tokens = tuple(t.strip() for t in (match.group(2) or "").split(",") if t.strip())
        found.append(Suppression(match.group(1).lower(), tokens, start, end))
    return found


def apply_suppressions(
    findings: list[tuple[Finding, int]],
    owners: list[int],
    text: str,
    catalogue: Catalogue,
    make_unused: object,
    comments: list[tuple[int, int]] | None = None,
) -> list[Finding]:
    """Drop suppressed findings; add an unused-suppression finding per stale comment.

    `owners[i]` is where the comments of statement (or object) i begin, in file
    order: a comment belongs to the last one that begins at or before it.
    `make_unused(start, end, fields)` builds the unused-suppression finding. `comments`:
    where the comments are, for a file that is not SQL.
    """
    suppressions = find_suppressions(text, comments)
    if not suppressions:
        return [f for f, _ in findings]
    owner_of = [_owner(owners, s.start) for s in suppressions]
    kept = []
    for finding, index in findings:
        suppressed = False
        for sup, owner in zip(suppressions, owner_of, strict=True):
            if sup.kind == "ignore" and owner != index:
                continue
            token = _matching_token(sup, finding, catalogue)
            if token is not None:
                suppressed = True
                sup.used_any = True
                if token:
                    sup.used.add(token)
        if not suppressed:
            kept.append(finding)
    for sup in suppressions:
        kept.extend(_unused(sup, catalogue, make_unused))
    return kept


def _owner(owners: list[int], offset: int) -> int:
    index = -1
    for i, start in enumerate(owners):
        if start <= offset:
            index = i
        else:
            break
    return max(index, 0)


def _matching_token(sup: Suppression, finding: Finding, catalogue: Catalogue) -> str | None:
    """The token that covers the finding ('' for a bare ignore), or None."""
    if not sup.tokens:
        return ""
    for token in sup.tokens:
        rule = catalogue.get(token)
        if rule is not None and rule.code == finding.code:
            return token
    return None


def _unused(sup: Suppression, catalogue: Catalogue, make_unused) -> list[Finding]:  # type: ignore[no-untyped-def]
    if not sup.tokens:
        if sup.used_any:
            return []
        return [make_unused(sup.start, sup.end, {"codes": "every rule", "reason": ""})]
    out = []
    for token in sup.tokens:
        if token in sup.used:
            continue
        known = catalogue.get(token) is not None
        reason = "" if known else f" (no rule is called `{token}`)"
        out.append(make_unused(sup.start, sup.end, {"codes": f"`{token}`", "reason": reason}))
    return out


def unused_hit(start: int, end: int, fields: dict[str, object]) -> Hit:
    return Hit(fields, start=start, end=end)


def comment_span(source: SourceText, start: int, end: int) -> tuple[int, int]:
    return start, end
