"""SQL for the statements zdlint recommends instead of the user's: pglast's deparser over
changed copies of the user's own statement (help texts and fixes share these)."""

from __future__ import annotations

import re

from pglast import ast
from pglast.stream import RawStream


def deparse(node: ast.Node | None) -> str:
    """pglast's SQL for a node (identifiers quoted as needed)."""
    assert node is not None
    return str(RawStream()(node))


def _copy(node: ast.Node, **changes: object) -> ast.Node:
    """A shallow copy of a pglast node with some attributes changed."""
    values = {slot: getattr(node, slot, None) for slot in node.__slots__}  # type: ignore[attr-defined]
    values.update(changes)
    return type(node)(**{k: v for k, v in values.items() if v is not None})


def concurrent_index(node: ast.IndexStmt) -> str:
    """`CREATE INDEX CONCURRENTLY …` for the user's CREATE INDEX (IF NOT EXISTS dropped:
    it would keep an invalid index from an earlier failed attempt)."""
    return deparse(_copy(node, concurrent=True, if_not_exists=False))


def concurrent_reindex(node: ast.ReindexStmt) -> str:
    """`REINDEX … CONCURRENTLY` for the user's REINDEX, in the keyword form PostgreSQL 12
    reads (the `(CONCURRENTLY)` option list needs 14); `(CONCURRENTLY false)` is dropped."""
    params = tuple(
        p
        for p in node.params or ()
        if not (isinstance(p, ast.DefElem) and p.defname == "concurrently")
    )
    plain = deparse(_copy(node, params=params or None))
    return _REINDEX_TARGET.sub(r"\1CONCURRENTLY ", plain, count=1)


_REINDEX_TARGET = re.compile(r"^(REINDEX (?:\([^)]*\) )?(?:INDEX|TABLE|SCHEMA|DATABASE|SYSTEM) )")


def parent_index_only(node: ast.IndexStmt) -> str:
    """The user's CREATE INDEX on the partitioned table alone (`ON ONLY`, not concurrent)."""
    relation = _copy(node.relation, inh=False) if node.relation is not None else None
    return deparse(_copy(node, concurrent=False, if_not_exists=False, relation=relation))
