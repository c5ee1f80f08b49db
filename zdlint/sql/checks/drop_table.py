"""ZD305: dropping a table the running version may still use.

A table the same transaction creates again under its name (CREATE TABLE [AS]) is
replaced, not removed: the running version finds a table of that name before and
after COMMIT.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType

from zdlint.findings import Hit
from zdlint.sql.names import strings
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.DropStmt)
    if node.removeType != ObjectType.OBJECT_TABLE:
        return
    names = [".".join(strings(obj)) for obj in node.objects or ()]
    existing = [n for n in names if not state.is_new_table(n.split(".")[-1])]
    existing = state.missing_at_commit(stmt, node.removeType, existing)
    if existing:
        yield Hit({"table": ", ".join(existing)})


CHECKS = [("ZD305", [ast.DropStmt], check)]
