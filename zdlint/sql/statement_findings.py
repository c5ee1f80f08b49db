"""The hits of one statement as the reader gets them: placed, without repeats, ordered.

- A rule reports a place once: a hit about one subcommand of an ALTER TABLE with several
  spans that subcommand, not the whole statement (the checks name it as `Hit.part`).
- A hit whose rule is superseded by another rule that fired on the statement
  (`[relations] supersedes` in the catalogue) says nothing new and is dropped, unless it
  is about tables besides the statement's own (`Hit.tables`); so is a second hit of one
  rule with the same facts at the same place.
- The rest come most specific first (`Rule.rank`: the statement's own hazards before what
  its transaction adds), then in the order of the text.
"""

from __future__ import annotations

from dataclasses import replace

from pglast import ast

from zdlint.catalogue import Rule
from zdlint.findings import Hit
from zdlint.sql.command_spans import command_spans
from zdlint.sql.locking import ddl_tables
from zdlint.sql.parse import Statement


def arrange(stmt: Statement, hits: list[tuple[Rule, Hit]]) -> list[tuple[Rule, Hit]]:
    """`hits` (each with its rule) placed, without repeats and ordered."""
    if len(hits) < 2:
        return _placed(stmt, hits)
    fired = {rule.code for rule, _ in hits}
    superseded = {code for rule, _ in hits for code in rule.supersedes if code in fired}
    own = set(ddl_tables(stmt.node))
    kept: list[tuple[Rule, Hit]] = []
    seen: set[tuple[object, ...]] = set()
    for rule, hit in _placed(stmt, hits):
        key = (rule.code, hit.start, hit.end, hit.lock, repr(sorted(hit.fields.items())))
        if key in seen or (rule.code in superseded and own.issuperset(hit.tables)):
            continue
        seen.add(key)
        kept.append((rule, hit))
    kept.sort(key=lambda pair: (pair[0].rank, _start(stmt, pair[1]), pair[0].code))
    return kept


def _start(stmt: Statement, hit: Hit) -> int:
    return stmt.start if hit.start is None else hit.start


def _placed(stmt: Statement, hits: list[tuple[Rule, Hit]]) -> list[tuple[Rule, Hit]]:
    """Each hit about one subcommand of a statement that has several spans that one."""
    node = stmt.node
    if not isinstance(node, ast.AlterTableStmt) or len(node.cmds or ()) < 2:
        return hits
    if all(hit.part is None or hit.start is not None for _, hit in hits):
        return hits
    spans = command_spans(stmt)
    if spans is None:
        return hits
    where = {id(cmd): span for cmd, span in zip(node.cmds or (), spans, strict=True)}
    placed = []
    for rule, hit in hits:
        span = where.get(id(hit.part)) if hit.start is None else None
        placed.append((rule, hit if span is None else replace(hit, start=span[0], end=span[1])))
    return placed
