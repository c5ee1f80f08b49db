"""ZD305: dropping a table the running version may still use."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType

from zdlint.findings import Hit
from zdlint.sql.names import strings
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def _renamed_to(node: ast.Node) -> str | None:
    """The name `node` gives a table by RENAME. (A table created afresh under the old name
    does not count: the running version finds the name, but not its data.)"""
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
    # Replaced by a RENAME in the same transaction (the copy-then-swap): no query sees a
    # gap, and the copy (ZD507 judges it) carries the data.
    later, _closed = state.rest_of_transaction(node)
    replaced = {_renamed_to(other) for other in later}
    existing = [n for n in existing if n.split(".")[-1] not in replaced]
    if existing:
        yield Hit({"table": ", ".join(existing)})


CHECKS = [("ZD305", [ast.DropStmt], check)]
