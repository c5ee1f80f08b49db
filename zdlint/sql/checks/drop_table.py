"""ZD305: dropping a table the running version may still use."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType

from zdlint.findings import Hit
from zdlint.sql.names import relation_name, strings
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def _named_later(node: ast.Node) -> str | None:
    """The table name `node` creates, or gives a table by RENAME."""
    if isinstance(node, ast.CreateStmt) and node.relation is not None:
        return relation_name(node.relation)
    if isinstance(node, ast.RenameStmt) and node.renameType == ObjectType.OBJECT_TABLE:
        return node.newname
    return None


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.DropStmt)
    if node.removeType != ObjectType.OBJECT_TABLE:
        return
    names = [".".join(strings(obj)) for obj in node.objects or ()]
    existing = [n for n in names if not state.is_new_table(n.split(".")[-1])]
    # Replaced in the same transaction (the copy-then-swap's RENAME): no query sees a gap.
    later, _closed = state.rest_of_transaction(node)
    replaced = {_named_later(other) for other in later}
    existing = [n for n in existing if n.split(".")[-1] not in replaced]
    if existing:
        yield Hit({"table": ", ".join(existing)})


CHECKS = [("ZD305", [ast.DropStmt], check)]
