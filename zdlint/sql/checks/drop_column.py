"""ZD304: dropping a column the running version may still read or write.

A column copied into a new one that takes its name later in the same transaction (the
swap that changes a column's type: add, UPDATE new = f(old), drop, rename) never goes
missing for the running version; what it sees change is the column's type, which ZD312
judges like an ALTER COLUMN TYPE. Replaced without a copy, its values are gone: ZD304.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from zdlint.findings import Hit
from zdlint.sql.checks._alter import existing_table_commands
from zdlint.sql.names import last_name, relation_name, walk
from zdlint.sql.parse import Statement
from zdlint.sql.schema import ColumnType, column_type
from zdlint.sql.state import MigrationState


def replacement(node: ast.AlterTableStmt, column: str, state: MigrationState) -> ColumnType | None:
    """The type of the column the rest of the open transaction puts under the dropped
    `column`'s name (renaming another column to it, or adding one); None when nothing
    does, or when its type is unknown."""
    table = relation_name(node.relation)
    later, _closed = state.rest_of_transaction(node)
    for other in later:
        if (
            isinstance(other, ast.RenameStmt)
            and other.renameType == ObjectType.OBJECT_COLUMN
            and other.relation is not None
            and relation_name(other.relation) == table
            and other.newname == column
        ):
            known = state.schema.column(table, other.subname or "")
            return known.type if known is not None else ColumnType("unknown")
        if isinstance(other, ast.AlterTableStmt) and relation_name(other.relation) == table:
            for cmd in other.cmds or ():
                added = cmd.def_
                if (
                    cmd.subtype == AlterTableType.AT_AddColumn
                    and isinstance(added, ast.ColumnDef)
                    and added.colname == column
                ):
                    return column_type(added.typeName)
    return None


def _copied_into_replacement(node: ast.AlterTableStmt, column: str, state: MigrationState) -> bool:
    """The column renamed to the dropped `column` later in the transaction was filled
    from it by an UPDATE earlier in the file: the values live on under the old name."""
    if replacement(node, column, state) is None:
        return False
    table = relation_name(node.relation)
    later, _closed = state.rest_of_transaction(node)
    sources = {
        other.subname
        for other in later
        if isinstance(other, ast.RenameStmt)
        and other.renameType == ObjectType.OBJECT_COLUMN
        and other.newname == column
    }
    for earlier in state.file_nodes:
        if earlier is node:
            return False
        if isinstance(earlier, ast.UpdateStmt) and relation_name(earlier.relation) == table:
            for target in earlier.targetList or ():
                if isinstance(target, ast.ResTarget) and target.name in sources:
                    if any(
                        isinstance(ref, ast.ColumnRef) and last_name(ref.fields) == column
                        for ref in walk(target.val)
                    ):
                        return True
    return False


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    assert isinstance(stmt.node, ast.AlterTableStmt)
    for table, display, cmd in existing_table_commands(
        stmt.node, state, AlterTableType.AT_DropColumn
    ):
        if (table, cmd.name) in state.added_columns:
            continue  # added by this file: the running version never used it
        if _copied_into_replacement(stmt.node, cmd.name or "", state):
            continue  # swapped under its name before COMMIT: ZD312 judges the new type
        yield Hit({"table": display, "column": cmd.name or ""}, part=cmd)


CHECKS = [("ZD304", [AlterTableType.AT_DropColumn], check)]
