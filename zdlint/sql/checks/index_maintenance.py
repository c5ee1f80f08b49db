"""ZD110 / ZD111: REINDEX without CONCURRENTLY; CREATE INDEX CONCURRENTLY IF NOT EXISTS."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ReindexObjectType

from zdlint.findings import Hit
from zdlint.sql.default_names import index_name
from zdlint.sql.locking import is_concurrent_reindex
from zdlint.sql.names import qualified_name, relation_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState
from zdlint.sql.statement_sql import concurrent_index, concurrent_reindex

_TARGETS: dict[ReindexObjectType | None, str] = {
    ReindexObjectType.REINDEX_OBJECT_INDEX: "INDEX",
    ReindexObjectType.REINDEX_OBJECT_TABLE: "TABLE",
    ReindexObjectType.REINDEX_OBJECT_SCHEMA: "SCHEMA",
    ReindexObjectType.REINDEX_OBJECT_SYSTEM: "SYSTEM",
    ReindexObjectType.REINDEX_OBJECT_DATABASE: "DATABASE",
}


def reindex(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.ReindexStmt)
    if is_concurrent_reindex(node):
        return
    if node.relation is not None:
        name = relation_name(node.relation)
        if state.is_empty(name) or name in state.created_indexes:
            return
        target = qualified_name(node.relation)
    else:
        target = node.name or ""
    kind = _TARGETS.get(node.kind, "")
    yield Hit({"target": f"{kind} {target}".strip(), "concurrent": concurrent_reindex(node)})


def concurrent_if_not_exists(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.IndexStmt)
    if not (node.concurrent and node.if_not_exists):
        return
    if state.is_new_table(relation_name(node.relation)):
        return
    yield Hit(
        {
            "table": qualified_name(node.relation),
            "index": index_name(node),
            "create": concurrent_index(node),
        }
    )


CHECKS = [
    ("ZD110", [ast.ReindexStmt], reindex),
    ("ZD111", [ast.IndexStmt], concurrent_if_not_exists),
]
