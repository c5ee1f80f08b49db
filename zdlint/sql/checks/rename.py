"""ZD302 / ZD303: renaming a column or table breaks the version that is still running."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType

from zdlint.findings import Hit
from zdlint.sql.names import qualified_name, relation_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def _existing(node: ast.RenameStmt, state: MigrationState) -> bool:
    return node.relation is not None and not state.is_new_table(relation_name(node.relation))


def rename_column(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.RenameStmt)
    if node.renameType != ObjectType.OBJECT_COLUMN or not _existing(node, state):
        return
    if (relation_name(node.relation), node.subname) not in state.added_columns:
        # a column this file added is unknown to the running version under any name
        yield Hit(
            {"table": qualified_name(node.relation), "column": node.subname, "new": node.newname}
        )


def rename_table(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.RenameStmt)
    if node.renameType == ObjectType.OBJECT_TABLE and _existing(node, state):
        yield Hit({"table": qualified_name(node.relation), "new": node.newname})


CHECKS = [
    ("ZD302", [ast.RenameStmt], rename_column),
    ("ZD303", [ast.RenameStmt], rename_table),
]
