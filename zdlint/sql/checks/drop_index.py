"""ZD103: DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType

from zdlint.findings import Hit
from zdlint.sql.identifiers import quote_qualified
from zdlint.sql.names import strings
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.DropStmt)
    if node.removeType != ObjectType.OBJECT_INDEX or node.concurrent:
        return
    names = [".".join(strings(obj)) for obj in node.objects or ()]
    existing = [
        n
        for n in names
        if (bare := n.split(".")[-1]) not in state.created_indexes
        and not _table_already_locked(bare, state)
    ]
    if not existing:
        return
    known = [state.schema.indexes.get(n.split(".")[-1]) for n in existing]
    tables = list(dict.fromkeys(f"`{index.table}`" for index in known if index is not None))
    exists = " IF EXISTS" if node.missing_ok else ""
    drops = " ".join(f"DROP INDEX CONCURRENTLY{exists} {quote_qualified(n)};" for n in existing)
    yield Hit(
        {
            "index": ", ".join(existing),
            "table": ", ".join(tables) if len(tables) == len(existing) else "its table",
            "drops": drops,
        }
    )


def _table_already_locked(index: str, state: MigrationState) -> bool:
    """The transaction already holds ACCESS EXCLUSIVE on the index's table: the drop waits
    for nothing more (and CONCURRENTLY is impossible in a transaction anyway)."""
    table = state.schema.table_of_index(index)
    return table is not None and state.holds_access_exclusive(table)


CHECKS = [("ZD103", [ast.DropStmt], check)]
