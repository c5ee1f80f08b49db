"""ZD112: REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks reads of the view."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from zdlint.findings import Hit
from zdlint.sql.names import qualified_name, relation_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.RefreshMatViewStmt)
    if node.concurrent or state.is_new_table(relation_name(node.relation)):
        return
    # The lock is on the view, which the catalogue's claim (tables only) cannot state.
    yield Hit({"view": qualified_name(node.relation)}, lock="AccessExclusiveLock")


CHECKS = [("ZD112", [ast.RefreshMatViewStmt], check)]
