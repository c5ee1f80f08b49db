"""ZD102: CREATE INDEX without CONCURRENTLY blocks writes for the whole build."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from zdlint.findings import Hit
from zdlint.sql.default_names import index_name
from zdlint.sql.names import qualified_name, relation_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState
from zdlint.sql.statement_sql import concurrent_index


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.IndexStmt)
    if node.concurrent or state.is_empty(relation_name(node.relation)):
        return
    yield Hit(
        {
            "table": qualified_name(node.relation),
            "index": index_name(node),
            "unique": "UNIQUE " if node.unique else "",
            "concurrent": concurrent_index(node),
        }
    )


CHECKS = [("ZD102", [ast.IndexStmt], check)]
