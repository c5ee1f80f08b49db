"""ZD402: a CONCURRENTLY statement inside a transaction fails at once."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from zdlint.findings import Hit
from zdlint.sql.locking import is_concurrent_reindex
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def concurrent_kind(node: ast.Node | None) -> str | None:
    """The CONCURRENTLY statement `node` is, which no transaction block may hold."""
    if isinstance(node, ast.IndexStmt) and node.concurrent:
        return "CREATE INDEX CONCURRENTLY"
    if isinstance(node, ast.DropStmt) and node.concurrent:
        return "DROP INDEX CONCURRENTLY"
    if isinstance(node, ast.ReindexStmt) and is_concurrent_reindex(node):
        return "REINDEX CONCURRENTLY"
    if isinstance(node, ast.AlterTableStmt):
        for cmd in node.cmds or ():
            if (
                cmd.subtype == AlterTableType.AT_DetachPartition
                and isinstance(cmd.def_, ast.PartitionCmd)
                and cmd.def_.concurrent
            ):
                return "DETACH PARTITION CONCURRENTLY"
    return None


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    kind = concurrent_kind(stmt.node)
    if kind and state.in_transaction:
        yield Hit({"statement": kind, "origin": state.transaction_origin})


CHECKS = [
    (
        "ZD402",
        [ast.IndexStmt, ast.DropStmt, ast.ReindexStmt, AlterTableType.AT_DetachPartition],
        check,
    ),
]
