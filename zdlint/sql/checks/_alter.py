"""Walking the subcommands of ALTER TABLE on tables that existed before this file."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, ObjectType

from zdlint.sql.names import qualified_name, relation_name
from zdlint.sql.state import MigrationState


def existing_table_commands(
    node: ast.AlterTableStmt, state: MigrationState, *subtypes: AlterTableType
) -> Iterator[tuple[str, str, ast.AlterTableCmd]]:
    """(table, display name, command) for each matching subcommand on an existing table."""
    if node.objtype != ObjectType.OBJECT_TABLE:
        return
    table = relation_name(node.relation)
    if state.is_new_table(table):
        return
    display = qualified_name(node.relation)
    for cmd in node.cmds or ():
        if cmd.subtype in subtypes:
            yield table, display, cmd


def sized_table_commands(
    node: ast.AlterTableStmt, state: MigrationState, *subtypes: AlterTableType
) -> Iterator[tuple[str, str, ast.AlterTableCmd]]:
    """Like `existing_table_commands`, for work that grows with the table (a scan, a
    rewrite, an index build): a table empty in this transaction is skipped too."""
    for table, display, cmd in existing_table_commands(node, state, *subtypes):
        if not state.is_empty(table):
            yield table, display, cmd


def column_constraints(column: ast.ColumnDef) -> list[ast.Constraint]:
    return [c for c in column.constraints or () if isinstance(c, ast.Constraint)]


def new_column_constraints(
    node: ast.AlterTableStmt, state: MigrationState, *contypes: ConstrType
) -> Iterator[tuple[str, ast.AlterTableCmd, str, ast.Constraint]]:
    """(display name, command, column, constraint) for each column constraint of these
    types on a column added to an existing table (`ADD COLUMN c int UNIQUE`): PostgreSQL
    checks or indexes every row for it, as for ADD CONSTRAINT."""
    for _table, display, cmd in sized_table_commands(node, state, AlterTableType.AT_AddColumn):
        column = cmd.def_
        if isinstance(column, ast.ColumnDef):
            for con in column_constraints(column):
                if con.contype in contypes:
                    yield display, cmd, column.colname or "", con
