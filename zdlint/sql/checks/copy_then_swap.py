"""ZD507: copy a table into a new one, then swap the new one in: late writes are lost.

`INSERT INTO new SELECT … FROM old` reads `old` as of the statement's snapshot; rows the
running version writes to `old` after that are not copied, and vanish when `old` is
dropped (or renamed away) and `new` is renamed to `old`, or when `old` is simply dropped
once its rows moved to `new`. It is safe only when the copy and the swap (or drop) run
in one transaction that blocked writes to `old` before the copy.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType

from zdlint.findings import Hit
from zdlint.locks import blocks_traffic
from zdlint.sql.names import last_name, qualified_name, relation_name, walk
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def _sources(select: ast.Node | None) -> dict[str, str]:
    """Tables the query reads: name -> name as written."""
    if not isinstance(select, ast.SelectStmt):
        return {}
    return {
        relation_name(r): qualified_name(r)
        for r in walk(select.fromClause)
        if isinstance(r, ast.RangeVar)
    }


def _removes(node: ast.Node, old: str) -> bool:
    """DROP TABLE old, or ALTER TABLE old RENAME TO something else."""
    if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE:
        return any(last_name(obj) == old for obj in node.objects or ())
    return _renames(node, old) is not None


def _renames(node: ast.Node, table: str) -> str | None:
    """The new name `node` gives `table`, if it renames it."""
    if (
        isinstance(node, ast.RenameStmt)
        and node.renameType == ObjectType.OBJECT_TABLE
        and relation_name(node.relation) == table
    ):
        return node.newname
    return None


def _swaps(nodes: list[ast.Node], old: str, new: str) -> bool:
    """`old` is removed and `new` renamed to `old`, in either order."""
    return any(_removes(n, old) for n in nodes) and any(_renames(n, new) == old for n in nodes)


def _retires(nodes: list[ast.Node], old: str, new: str) -> str | None:
    """How `nodes` retire `old` after its rows were copied into `new`: swapping `new` in
    under its name, or dropping it (its rows live on in `new` only); None if they keep it."""
    if _swaps(nodes, old, new):
        return "replaces"
    drops = (
        isinstance(n, ast.DropStmt)
        and n.removeType == ObjectType.OBJECT_TABLE
        and any(last_name(obj) == old for obj in n.objects or ())
        for n in nodes
    )
    return "drops" if any(drops) else None


def _writes_blocked(old: str, state: MigrationState) -> bool:
    held = state.ddl_locks.get(old)
    return state.in_transaction and (
        old in state.access_exclusive or (held is not None and blocks_traffic(held))
    )


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.InsertStmt)
    new = relation_name(node.relation)
    sources = {
        old: display
        for old, display in _sources(node.selectStmt).items()
        if old != new and not state.is_new_table(old)
    }
    later = state.later_in_file(node) if sources else []
    for old, display in sources.items():
        retired = _retires(later, old, new)
        if retired is None:
            continue
        in_transaction, _closed = state.rest_of_transaction(node)
        if _writes_blocked(old, state) and _retires(in_transaction, old, new) == retired:
            continue
        target = qualified_name(node.relation)
        then = (
            f"replaces `{display}` with `{target}`"
            if retired == "replaces"
            else f"drops `{display}`"
        )
        yield Hit({"old": display, "new": target, "then": then})


CHECKS = [("ZD507", [ast.InsertStmt], check)]
