"""ZD503: TRUNCATE of an existing table."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import DropBehavior

from zdlint.findings import Hit
from zdlint.sql.names import qualified_name, relation_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.TruncateStmt)
    tables = [
        qualified_name(r) for r in node.relations or () if not state.is_new_table(relation_name(r))
    ]
    if not tables:
        return
    cascade = node.behavior == DropBehavior.DROP_CASCADE
    yield Hit(
        {
            "tables": ", ".join(f"`{t}`" for t in tables),
            "cascade": " and, through CASCADE, every table that references it" if cascade else "",
        }
    )


CHECKS = [("ZD503", [ast.TruncateStmt], check)]
