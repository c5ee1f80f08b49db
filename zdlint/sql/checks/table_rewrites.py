"""ZD203-ZD206: statements that rewrite a whole table under ACCESS EXCLUSIVE."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from zdlint.findings import Hit
from zdlint.sql.checks._alter import sized_table_commands
from zdlint.sql.locking import is_vacuum_full
from zdlint.sql.long_operations import is_stored_generated
from zdlint.sql.names import qualified_name, relation_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState
from zdlint.versions import VIRTUAL_GENERATED_COLUMN

_STORAGE_CHANGES: dict[AlterTableType | None, str] = {
    AlterTableType.AT_SetTableSpace: "SET TABLESPACE",
    AlterTableType.AT_SetLogged: "SET LOGGED",
    AlterTableType.AT_SetUnLogged: "SET UNLOGGED",
}


def _existing(relations: list[ast.RangeVar], state: MigrationState) -> list[str]:
    return [qualified_name(r) for r in relations if not state.is_empty(relation_name(r))]


def vacuum_full(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.VacuumStmt)
    if not is_vacuum_full(node):
        return
    relations = [r.relation for r in node.rels or () if r.relation is not None]
    if not relations:
        yield Hit({"tables": "every table of the database"})
    elif tables := _existing(relations, state):
        yield Hit({"tables": ", ".join(f"`{t}`" for t in tables)})


def cluster(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.ClusterStmt)
    if node.relation is None:
        yield Hit({"tables": "every table clustered before"})
    elif tables := _existing([node.relation], state):
        yield Hit({"tables": f"`{tables[0]}`"})


def storage_change(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    assert isinstance(stmt.node, ast.AlterTableStmt)
    for _table, display, cmd in sized_table_commands(
        stmt.node, state, *(t for t in _STORAGE_CHANGES if t is not None)
    ):
        yield Hit({"table": display, "change": _STORAGE_CHANGES[cmd.subtype]}, part=cmd)


def stored_generated_column(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    assert isinstance(stmt.node, ast.AlterTableStmt)
    for _table, display, cmd in sized_table_commands(stmt.node, state, AlterTableType.AT_AddColumn):
        column = cmd.def_
        if isinstance(column, ast.ColumnDef) and is_stored_generated(column):
            yield Hit(
                {"table": display, "column": column.colname or "", "instead": _virtual(state)},
                part=cmd,
            )


def _virtual(state: MigrationState) -> str:
    """ZD206's advice: a VIRTUAL column where the target version has them."""
    plain = (
        "add a plain nullable column, fill new rows with a trigger and backfill old ones in batches"
    )
    since = VIRTUAL_GENERATED_COLUMN.since
    if state.pg_version >= since:
        return f"Make it VIRTUAL (computed on read: no rewrite), or {plain}"
    return f"{plain[0].upper()}{plain[1:]} (VIRTUAL generated columns come with PostgreSQL {since})"


CHECKS = [
    ("ZD203", [ast.VacuumStmt], vacuum_full),
    ("ZD204", [ast.ClusterStmt], cluster),
    ("ZD205", [t for t in _STORAGE_CHANGES if t is not None], storage_change),
    ("ZD206", [AlterTableType.AT_AddColumn], stored_generated_column),
]
