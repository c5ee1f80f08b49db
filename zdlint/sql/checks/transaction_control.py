"""ZD411 / ZD412 / ZD413: BEGIN, COMMIT and ROLLBACK that do not do what they seem to.

A BEGIN that nothing commits leaves the migration to be rolled back when the session
ends. Inside the transaction a migration tool wraps around the file, ROLLBACK throws the
migration away while the tool records it as applied, and COMMIT ends the tool's
transaction early. A BEGIN inside the tool's transaction is not reported: PostgreSQL
warns and ignores it, and the COMMIT that goes with it is what does the harm.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import TransactionStmtKind

from zdlint.findings import Hit
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def _kind(stmt: Statement) -> TransactionStmtKind | None:
    node = stmt.node
    assert isinstance(node, ast.TransactionStmt)
    return node.kind


def _tool(state: MigrationState) -> str:
    return state.layout.tool if state.layout else "the migration tool"


def begin_without_commit(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    if _kind(stmt) not in (
        TransactionStmtKind.TRANS_STMT_BEGIN,
        TransactionStmtKind.TRANS_STMT_START,
    ):
        return
    if state.tool_transaction:
        return  # a no-op inside the tool's transaction, which the tool commits
    assert stmt.node is not None
    _rest, closed = state.rest_of_transaction(stmt.node)
    if not closed:
        yield Hit({})


def rollback_in_wrapped_file(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    region = state.region
    if _kind(stmt) != TransactionStmtKind.TRANS_STMT_ROLLBACK:
        return
    if region is None or not region.wrapped or not state.in_transaction:
        return
    yield Hit({"origin": state.transaction_origin, "tool": _tool(state)})


def commit_in_tool_transaction(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    if _kind(stmt) == TransactionStmtKind.TRANS_STMT_COMMIT and state.tool_transaction:
        yield Hit({"tool": _tool(state)})


CHECKS = [
    ("ZD411", [ast.TransactionStmt], begin_without_commit),
    ("ZD412", [ast.TransactionStmt], rollback_in_wrapped_file),
    ("ZD413", [ast.TransactionStmt], commit_in_tool_transaction),
]
